// Frames: names, the header layout of PROTOCOL.md §3 and §12, building
// requests and replies, and checking reply headers on the client side.

#include "decode_helpers.hpp"

#include "rngpool/protocol/frame.hpp"

#include <catch2/catch.hpp>

#include <array>

using namespace rngpool::protocol;
using rngpool::protocol::test::Bytes;

namespace {

constexpr std::array kAllStatuses = {
    Status::ok,        Status::bad_frame,         Status::unsupported_version, Status::unknown_opcode,
    Status::too_large, Status::not_ready,         Status::hwrng_unavailable,   Status::busy,
    Status::permission_denied, Status::internal,
};

constexpr std::array kAllOpcodes = {Opcode::get_random, Opcode::status, Opcode::ping};

std::array<std::uint8_t, kHeaderSize> header_bytes(const Bytes& frame)
{
  REQUIRE(frame.size() >= kHeaderSize);
  std::array<std::uint8_t, kHeaderSize> out{};
  std::copy_n(frame.begin(), kHeaderSize, out.begin());
  return out;
}

Header decoded_reply(std::span<const std::uint8_t, kHeaderSize> bytes)
{
  const auto result = decode_reply_header(bytes);
  if (const auto* error = std::get_if<DecodeError>(&result))
    FAIL("reply header rejected: " << error->reason);
  return std::get<Header>(result);
}

std::string reply_error(std::array<std::uint8_t, kHeaderSize> bytes)
{
  const auto result = decode_reply_header(bytes);
  REQUIRE(std::holds_alternative<DecodeError>(result));
  return std::get<DecodeError>(result).reason;
}

}  // namespace

TEST_CASE("status names are the spec's and map both ways", "[frame]")
{
  constexpr std::array<std::string_view, 10> names = {
      "OK",        "BAD_FRAME",         "UNSUPPORTED_VERSION", "UNKNOWN_OPCODE",    "TOO_LARGE",
      "NOT_READY", "HWRNG_UNAVAILABLE", "BUSY",                "PERMISSION_DENIED", "INTERNAL"};
  for (std::size_t i = 0; i < kAllStatuses.size(); ++i) {
    CHECK(static_cast<std::size_t>(kAllStatuses[i]) == i);  // PROTOCOL.md §6 codes
    CHECK(status_name(kAllStatuses[i]) == names[i]);
    CHECK(status_from_name(names[i]) == kAllStatuses[i]);
  }
  CHECK_FALSE(status_from_name("ok"));
  CHECK_FALSE(status_from_name("NOPE"));
  CHECK(status_name(static_cast<Status>(200)) == "UNKNOWN_STATUS");
}

TEST_CASE("only BAD_FRAME, UNSUPPORTED_VERSION and BUSY are fatal", "[frame]")
{
  for (const Status status : kAllStatuses)
    CHECK(is_fatal(status) ==
          (status == Status::bad_frame || status == Status::unsupported_version || status == Status::busy));
}

TEST_CASE("opcode names", "[frame]")
{
  CHECK(opcode_name(Opcode::get_random) == "GET_RANDOM");
  CHECK(opcode_name(Opcode::status) == "STATUS");
  CHECK(opcode_name(Opcode::ping) == "PING");
}

TEST_CASE("GET_RANDOM request matches the worked example of PROTOCOL.md §12.1", "[frame]")
{
  const Bytes expected = {0xf5, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
                          0x00, 0x2a, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x10};
  CHECK(encode_get_random(42, 16, flags::prediction_resistance) == expected);
}

TEST_CASE("reply header matches the worked example of PROTOCOL.md §12.1", "[frame]")
{
  std::array<std::uint8_t, kHeaderSize> bytes{};
  encode_header(reply_header(Opcode::get_random, 42, Status::ok, 16), bytes);
  const std::array<std::uint8_t, kHeaderSize> expected = {
      0xf5, 0x01, 0x81, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a, 0x00, 0x00, 0x00, 0x10};
  CHECK(bytes == expected);
}

TEST_CASE("multi-byte fields are big-endian", "[frame]")
{
  Header header;
  header.opcode = 0x02;
  header.flags = 0x0102;
  header.request_id = 0x03040506;
  header.length = 0x0708090a;
  std::array<std::uint8_t, kHeaderSize> bytes{};
  encode_header(header, bytes);
  const std::array<std::uint8_t, kHeaderSize> expected = {
      0xf5, 0x01, 0x02, 0x00, 0x01, 0x02, 0x00, 0x00, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a};
  CHECK(bytes == expected);
}

TEST_CASE("every opcode round-trips through the request decoder", "[frame]")
{
  for (const Opcode opcode : kAllOpcodes) {
    const std::uint32_t id = 0xdeadbeef;
    const Bytes frame = opcode == Opcode::get_random
                            ? encode_get_random(id, 0xfffffffe, flags::known)
                            : encode_request(opcode, id, flags::nonblock);
    RequestDecoder decoder;
    CHECK(decoder.feed(frame) == frame.size());
    const auto result = decoder.next();
    REQUIRE(std::holds_alternative<Request>(result));
    const auto& request = std::get<Request>(result);
    CHECK(request.opcode == opcode);
    CHECK(request.header.opcode == static_cast<std::uint8_t>(opcode));
    CHECK(request.header.request_id == id);
    CHECK(request.header.status == Status::ok);
    CHECK(request.header.flags == (opcode == Opcode::get_random ? flags::known : flags::nonblock));
    CHECK(request.count == (opcode == Opcode::get_random ? 0xfffffffeu : 0u));
  }
}

TEST_CASE("every status and opcode round-trips through the reply header", "[frame]")
{
  for (const Opcode opcode : kAllOpcodes)
    for (const Status status : kAllStatuses) {
      std::array<std::uint8_t, kHeaderSize> bytes{};
      encode_header(reply_header(opcode, 77, status, 1234567), bytes);
      const Header header = decoded_reply(bytes);
      CHECK(header.opcode == (static_cast<std::uint8_t>(opcode) | kReplyBit));
      CHECK(header.status == status);
      CHECK(header.request_id == 77);
      CHECK(header.length == 1234567);
    }
}

TEST_CASE("error replies carry the message as payload", "[frame]")
{
  const Bytes reply = encode_error_reply(0x01, 9, Status::too_large, "count too large");
  const Header header = decoded_reply(header_bytes(reply));
  CHECK(header.opcode == 0x81);
  CHECK(header.status == Status::too_large);
  CHECK(header.request_id == 9);
  CHECK(header.length == 15);
  CHECK(std::string(reply.begin() + kHeaderSize, reply.end()) == "count too large");
}

TEST_CASE("the reply to an unreadable header matches PROTOCOL.md §12.3", "[frame]")
{
  RequestDecoder decoder;
  const std::array<std::uint8_t, 1> tls = {0x16};
  decoder.feed(tls);
  const auto result = decoder.next();
  REQUIRE(std::holds_alternative<DecodeError>(result));
  const auto& error = std::get<DecodeError>(result);
  const Bytes reply = encode_error_reply(error.opcode, error.request_id, error.status, error.reason);
  const Bytes expected = rngpool::protocol::test::concat({{0xf5, 0x01, 0x80, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                  0x00, 0x00, 0x00, 0x00, 0x0e},
                                 rngpool::protocol::test::bytes_of("bad magic 0x16")});
  CHECK(reply == expected);
  // A client decodes it as an error reply even though opcode 0 is unknown.
  CHECK(decoded_reply(header_bytes(reply)).status == Status::bad_frame);
}

TEST_CASE("long error messages are cut at a UTF-8 character boundary", "[frame]")
{
  std::string message(kMaxErrorMessage - 1, 'x');
  message += "\xc3\xa9\xc3\xa9";  // "éé": the first straddles the limit
  const Bytes reply = encode_error_reply(0x02, 1, Status::internal, message);
  CHECK(reply.size() == kHeaderSize + kMaxErrorMessage - 1);
  CHECK(decoded_reply(header_bytes(reply)).length == kMaxErrorMessage - 1);
}

TEST_CASE("reply headers are checked with a reason", "[frame]")
{
  std::array<std::uint8_t, kHeaderSize> good{};
  encode_header(reply_header(Opcode::ping, 5, Status::ok, 0), good);
  REQUIRE(std::holds_alternative<Header>(decode_reply_header(good)));

  auto bytes = good;
  bytes[0] = 0x41;
  CHECK(reply_error(bytes) == "bad magic 0x41");
  CHECK(std::get<DecodeError>(decode_reply_header(bytes)).status == Status::bad_frame);
  bytes = good;
  bytes[1] = 2;
  CHECK(reply_error(bytes) == "unsupported version 2");
  CHECK(std::get<DecodeError>(decode_reply_header(bytes)).status == Status::unsupported_version);
  bytes = good;
  bytes[2] = 0x03;
  CHECK(reply_error(bytes) == "reply bit missing in a reply");
  bytes = good;
  bytes[3] = 10;
  CHECK(reply_error(bytes) == "unknown status 10");
  bytes = good;
  bytes[7] = 1;
  CHECK(reply_error(bytes) == "reserved field must be 0");
  bytes = good;
  bytes[2] = 0x89;
  CHECK(reply_error(bytes) == "unknown opcode 0x09");
  bytes[3] = static_cast<std::uint8_t>(Status::unknown_opcode);  // the daemon's answer to 0x09
  CHECK(decoded_reply(bytes).status == Status::unknown_opcode);
}
