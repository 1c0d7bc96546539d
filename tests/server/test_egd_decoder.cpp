// The EGD request decoder (PROTOCOL.md §13): every command, split
// invariance, and every bad input.  Driven by the same loop as the frame and
// line decoders (tests/protocol/decode_helpers.hpp).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "../protocol/decode_helpers.hpp"
#include "serve/egd_decoder.hpp"

namespace rngpool::server {

// Found by argument-dependent lookup from decode_helpers.hpp's templates.
inline std::string describe(const EgdDecoder::Result& result) {
  if (const auto* request = std::get_if<EgdRequest>(&result)) {
    std::string text = "request " + std::to_string(static_cast<int>(request->kind)) +
                       " count=" + std::to_string(request->count) + " bits=" + std::to_string(request->bits) +
                       " bytes=";
    text.append(request->bytes.begin(), request->bytes.end());
    return text;
  }
  if (const auto* error = std::get_if<EgdError>(&result))
    return "error " + std::to_string(error->command) + " '" + error->reason + "'";
  return "need more";
}

inline bool ends_stream(const EgdDecoder::Result& result) { return std::holds_alternative<EgdError>(result); }

}  // namespace rngpool::server

using namespace rngpool::server;
using rngpool::protocol::test::Bytes;
using rngpool::protocol::test::decode_pieces;
using rngpool::protocol::test::decode_whole;

namespace {

const Bytes kEveryCommand = {
    0x00,                                   // entropy level
    0x01, 0x10,                             // 16 bytes, no wait
    0x02, 0xff,                             // 255 bytes
    0x03, 0x01, 0x02, 0x03, 'a', 'b', 'c',  // add 3 bytes claiming 258 bits
    0x04,                                   // pid
    0x02, 0x00,                             // 0 bytes
    0x03, 0x00, 0x00, 0x00,                 // add nothing
    0x01, 0x00,
};

const std::vector<std::string> kEveryCommandDecoded = {
    "request 0 count=0 bits=0 bytes=",   "request 1 count=16 bits=0 bytes=", "request 2 count=255 bits=0 bytes=",
    "request 3 count=3 bits=258 bytes=abc", "request 4 count=0 bits=0 bytes=", "request 2 count=0 bits=0 bytes=",
    "request 3 count=0 bits=0 bytes=",   "request 1 count=0 bits=0 bytes=",
};

std::vector<std::string> decode(const Bytes& stream) {
  return decode_whole<EgdDecoder>(stream, rngpool::server::egd::kMaxRequest);
}

}  // namespace

TEST_CASE("EGD: every command decodes, pipelined, in order", "[egd]") {
  CHECK(decode(kEveryCommand) == kEveryCommandDecoded);
}

TEST_CASE("EGD: any single or double split gives the same result", "[egd]") {
  for (std::size_t a = 0; a <= kEveryCommand.size(); ++a) {
    CHECK(decode_pieces<EgdDecoder>(kEveryCommand, {a}, egd::kMaxRequest) == kEveryCommandDecoded);
    for (std::size_t b = a; b <= kEveryCommand.size(); ++b)
      REQUIRE(decode_pieces<EgdDecoder>(kEveryCommand, {a, b}, egd::kMaxRequest) == kEveryCommandDecoded);
  }
}

TEST_CASE("EGD: byte-at-a-time gives the same result", "[egd]") {
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < kEveryCommand.size(); ++i)
    cuts.push_back(i);
  CHECK(decode_pieces<EgdDecoder>(kEveryCommand, cuts, egd::kMaxRequest) == kEveryCommandDecoded);
}

TEST_CASE("EGD: the longest add, 255 bytes, is held whole and no more", "[egd]") {
  Bytes stream = {0x03, 0xff, 0xff, 0xff};
  stream.insert(stream.end(), 255, 'x');
  stream.push_back(0x00);
  EgdDecoder decoder;
  CHECK(decoder.feed(stream) == egd::kMaxRequest);  // stops after one request
  CHECK(decoder.buffered() == egd::kMaxRequest);
  auto first = decoder.next();
  const auto* add = std::get_if<EgdRequest>(&first);
  REQUIRE(add != nullptr);
  CHECK(add->kind == EgdRequest::Kind::add_entropy);
  CHECK(add->bits == 0xffff);
  CHECK(add->bytes == Bytes(255, 'x'));
  CHECK(decoder.buffered() == 0);
  CHECK(std::holds_alternative<std::monostate>(decoder.next()));
  CHECK(decoder.feed(std::span(stream).subspan(egd::kMaxRequest)) == 1);
  auto second = decoder.next();
  CHECK(std::get<EgdRequest>(second).kind == EgdRequest::Kind::entropy_level);
}

TEST_CASE("EGD: a request cut short waits for the rest", "[egd]") {
  for (const Bytes& partial : {Bytes{0x01}, Bytes{0x02}, Bytes{0x03}, Bytes{0x03, 0x00, 0x10}, Bytes{0x03, 0, 0, 2, 'a'}}) {
    EgdDecoder decoder;
    CHECK(decoder.feed(partial) == partial.size());
    CHECK(std::holds_alternative<std::monostate>(decoder.next()));
    CHECK(decoder.buffered() == partial.size());
  }
}

TEST_CASE("EGD: every byte that is not a command is a final error", "[egd]") {
  for (int command = 0x05; command <= 0xff; ++command) {
    const Bytes stream = {0x00, static_cast<std::uint8_t>(command), 0x00, 0x04};
    const auto decoded = decode(stream);
    REQUIRE(decoded.size() == 2);
    CHECK(decoded[0] == "request 0 count=0 bits=0 bytes=");
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02x", command);
    CHECK(decoded[1] == "error " + std::to_string(command) + " 'unknown EGD command byte " + hex + "'");
  }
}

TEST_CASE("EGD: a final error stays and takes no more bytes", "[egd]") {
  EgdDecoder decoder;
  const Bytes stream = {0x7f, 0x00, 0x00};
  CHECK(decoder.feed(stream) == 1);
  const auto error = decoder.next();
  REQUIRE(std::holds_alternative<EgdError>(error));
  CHECK(decoder.next() == error);
  CHECK(decoder.feed(std::span(stream).subspan(1)) == 0);
  CHECK(decoder.buffered() == 0);
}

TEST_CASE("EGD: a command byte inside an argument is an argument", "[egd]") {
  // 0x02 0x7f: 127 bytes, not an unknown command 0x7f; 0x03's n = 0x09.
  const Bytes stream = {0x02, 0x7f, 0x03, 0xee, 0xee, 0x02, 0xee, 0xee};
  CHECK(decode(stream) == std::vector<std::string>{"request 2 count=127 bits=0 bytes=",
                                                    "request 3 count=2 bits=61166 bytes=\xee\xee"});
}
