// The request decoder against PROTOCOL.md §8 and §9: every malformed header
// with its exact reason, hostile lengths, pipelining, and the promise that
// the result does not depend on how the stream was split.

#include "allocation_probe.hpp"
#include "decode_helpers.hpp"

#include "rngpool/protocol/frame.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <random>
#include <utility>

using namespace rngpool::protocol;
using namespace rngpool::protocol::test;

namespace {

constexpr std::size_t kBound = kHeaderSize + kMaxRequestPayload;

// A valid PING with one field of the header overwritten.
Bytes ping_with(std::size_t offset, std::initializer_list<std::uint8_t> value)
{
  Bytes frame = encode_request(Opcode::ping, 0x01020304);
  std::copy(value.begin(), value.end(), frame.begin() + static_cast<std::ptrdiff_t>(offset));
  return frame;
}

DecodeError decode_error(const Bytes& stream)
{
  RequestDecoder decoder;
  decoder.feed(stream);
  const auto result = decoder.next();
  REQUIRE(std::holds_alternative<DecodeError>(result));
  return std::get<DecodeError>(result);
}

// A stream exercising every path: valid requests of each opcode, an unknown
// opcode with a payload to skip, then a fatal error and bytes after it.
Bytes mixed_stream()
{
  return concat({encode_get_random(1, 32, flags::prediction_resistance),
                 encode_request(Opcode::ping, 2),
                 encode_request(static_cast<Opcode>(0x09), 3, 0, bytes_of("skip me")),
                 encode_request(Opcode::status, 4, flags::nonblock),
                 encode_get_random(5, 0),
                 ping_with(6, {0x00, 0x01}),
                 encode_request(Opcode::ping, 7)});
}

const std::vector<std::string> kMixedExpected = {
    "request GET_RANDOM id=1 flags=1 length=4 count=32",
    "request PING id=2 flags=0 length=0 count=0",
    "error UNKNOWN_OPCODE 'unknown opcode 0x09' id=3 opcode=9",
    "request STATUS id=4 flags=4 length=0 count=0",
    "request GET_RANDOM id=5 flags=0 length=4 count=0",
    "error BAD_FRAME 'reserved field must be 0' id=16909060 opcode=3",
};

}  // namespace

TEST_CASE("a pipelined stream decodes in order, echoing request ids", "[request]")
{
  CHECK(decode_whole<RequestDecoder>(mixed_stream(), kBound) == kMixedExpected);
}

TEST_CASE("any single split of the stream gives the same result", "[request]")
{
  const Bytes stream = mixed_stream();
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    INFO("cut at " << cut);
    CHECK(decode_pieces<RequestDecoder>(stream, {cut}, kBound) == kMixedExpected);
  }
}

TEST_CASE("any two splits of the stream give the same result", "[request]")
{
  const Bytes stream = mixed_stream();
  for (std::size_t a = 0; a <= stream.size(); ++a)
    for (std::size_t b = a; b <= stream.size(); ++b)
      if (decode_pieces<RequestDecoder>(stream, {a, b}, kBound) != kMixedExpected)
        FAIL("cuts at " << a << " and " << b);
}

TEST_CASE("byte-at-a-time and random splits give the same result", "[request]")
{
  const Bytes stream = mixed_stream();
  std::vector<std::size_t> every;
  for (std::size_t i = 1; i < stream.size(); ++i)
    every.push_back(i);
  CHECK(decode_pieces<RequestDecoder>(stream, every, kBound) == kMixedExpected);

  std::mt19937 rng(20240601);
  for (int round = 0; round < 200; ++round) {
    std::vector<std::size_t> cuts;
    for (std::size_t i = 1; i < stream.size(); ++i)
      if (rng() % 4 == 0)
        cuts.push_back(i);
    CHECK(decode_pieces<RequestDecoder>(stream, cuts, kBound) == kMixedExpected);
  }
}

TEST_CASE("malformed headers are rejected with their reason", "[request]")
{
  struct Case {
    Bytes frame;
    Status status;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {ping_with(0, {0x41}), Status::bad_frame, "bad magic 0x41"},
      {ping_with(1, {0x02}), Status::unsupported_version, "unsupported version 2"},
      {ping_with(1, {0x00}), Status::unsupported_version, "unsupported version 0"},
      {ping_with(2, {0x83}), Status::bad_frame, "reply bit set in a request"},
      {ping_with(3, {0x04}), Status::bad_frame, "nonzero status in a request"},
      {ping_with(6, {0x80, 0x00}), Status::bad_frame, "reserved field must be 0"},
      {ping_with(4, {0x01, 0x07}), Status::bad_frame, "unknown flags 0x0100"},
      {ping_with(4, {0x80, 0x08}), Status::bad_frame, "unknown flags 0x8008"},
      {ping_with(12, {0xff, 0xff, 0xff, 0xff}), Status::bad_frame, "payload length 4294967295 exceeds 64"},
      {ping_with(12, {0x00, 0x00, 0x00, 0x41}), Status::bad_frame, "payload length 65 exceeds 64"},
      {encode_request(Opcode::get_random, 1, 0, bytes_of("abc")), Status::bad_frame,
       "GET_RANDOM payload must be 4 bytes, got 3"},
      {encode_request(Opcode::get_random, 1), Status::bad_frame, "GET_RANDOM payload must be 4 bytes, got 0"},
      {encode_request(Opcode::ping, 1, 0, bytes_of("x")), Status::bad_frame, "PING payload must be 0 bytes, got 1"},
      {encode_request(Opcode::status, 1, 0, bytes_of("xy")), Status::bad_frame, "STATUS payload must be 0 bytes, got 2"},
  };
  for (const Case& c : cases) {
    INFO(c.reason);
    const DecodeError error = decode_error(c.frame);
    CHECK(error.status == c.status);
    CHECK(error.reason == c.reason);
    CHECK(is_fatal(error.status));
  }
}

TEST_CASE("errors echo the request id once the header was readable", "[request]")
{
  CHECK(decode_error(ping_with(0, {0x41})).request_id == 0);
  CHECK(decode_error(ping_with(1, {0x02})).request_id == 0);
  const DecodeError error = decode_error(ping_with(6, {0x00, 0x01}));
  CHECK(error.request_id == 0x01020304);
  CHECK(error.opcode == static_cast<std::uint8_t>(Opcode::ping));
}

TEST_CASE("magic and version are rejected on the byte they arrive in", "[request]")
{
  RequestDecoder decoder;
  const std::array<std::uint8_t, 1> letter = {'G'};
  CHECK(decoder.feed(letter) == 1);
  CHECK(std::holds_alternative<DecodeError>(decoder.next()));

  RequestDecoder versioned;
  const std::array<std::uint8_t, 2> v2 = {kMagic, 2};
  CHECK(versioned.feed(v2) == 2);
  CHECK(std::get<DecodeError>(versioned.next()).status == Status::unsupported_version);
}

TEST_CASE("a fatal error is sticky and takes no more bytes", "[request]")
{
  RequestDecoder decoder;
  const Bytes bad = ping_with(3, {0x01});
  CHECK(decoder.feed(bad) == kHeaderSize);
  const std::string first = describe(decoder.next());
  const Bytes good = encode_request(Opcode::ping, 1);
  CHECK(decoder.feed(good) == 0);
  CHECK(describe(decoder.next()) == first);
  CHECK(describe(decoder.next()) == first);
}

TEST_CASE("an unknown opcode skips its payload and decoding goes on", "[request]")
{
  const std::vector<std::pair<std::uint8_t, std::string>> unknown = {
      {0x00, "0x00"}, {0x04, "0x04"}, {0x09, "0x09"}, {0x7f, "0x7f"}};
  for (const auto& [opcode, shown] : unknown) {
    const Bytes stream = concat({encode_request(static_cast<Opcode>(opcode), 8, 0, Bytes(64, 0xf5)),
                                 encode_request(Opcode::ping, 9)});
    CHECK(decode_whole<RequestDecoder>(stream, kBound) ==
          std::vector<std::string>{
              "error UNKNOWN_OPCODE 'unknown opcode " + shown + "' id=8 opcode=" + std::to_string(opcode),
              "request PING id=9 flags=0 length=0 count=0"});
  }
}

TEST_CASE("feed stops after one complete frame", "[request]")
{
  const Bytes stream = concat({encode_get_random(1, 1), encode_get_random(2, 2)});
  RequestDecoder decoder;
  CHECK(decoder.feed(stream) == 20);
  CHECK(decoder.feed(stream) == 0);  // until next() takes the frame
  CHECK(std::get<Request>(decoder.next()).count == 1);
  CHECK(std::holds_alternative<std::monostate>(decoder.next()));
  CHECK(decoder.feed(std::span{stream}.subspan(20)) == 20);
  CHECK(std::get<Request>(decoder.next()).count == 2);
}

TEST_CASE("a partial frame waits for more bytes", "[request]")
{
  const Bytes frame = encode_get_random(3, 1000);
  RequestDecoder decoder;
  CHECK(decoder.feed(std::span{frame}.first(19)) == 19);
  CHECK(std::holds_alternative<std::monostate>(decoder.next()));
  CHECK(decoder.feed(std::span{frame}.subspan(19)) == 1);
  CHECK(std::get<Request>(decoder.next()).count == 1000);
}

TEST_CASE("hostile lengths up to 2^32-1 are refused without buffering or allocating", "[request]")
{
  const Bytes flood(1 << 16, 0xab);
  for (const std::uint32_t length : {65u, 1000u, 1u << 20, 1u << 31, 0xffffffffu}) {
    INFO("length " << length);
    Bytes frame = encode_request(static_cast<Opcode>(0x09), 1);
    frame[12] = static_cast<std::uint8_t>(length >> 24);
    frame[13] = static_cast<std::uint8_t>(length >> 16);
    frame[14] = static_cast<std::uint8_t>(length >> 8);
    frame[15] = static_cast<std::uint8_t>(length);
    const Bytes stream = concat({frame, flood});

    const std::string expected = "payload length " + std::to_string(length) + " exceeds 64";
    std::size_t allocated = 0;
    {
      AllocationProbe probe;
      RequestDecoder decoder;
      CHECK(decoder.feed(stream) == kHeaderSize);
      CHECK(decoder.buffered() <= kBound);
      const auto result = decoder.next();
      REQUIRE(std::holds_alternative<DecodeError>(result));
      CHECK(std::get<DecodeError>(result).reason == expected);
      allocated = probe.largest();
    }
    CHECK(allocated < 256);  // the reason string, nothing sized by the length
  }
}
