// rngpool wire protocol: binary frames (see protocol/PROTOCOL.md).
//
// Shared by the daemon and the client library, so it holds no I/O: it turns
// bytes into frames and frames into bytes.  Everything on the wire is
// big-endian.  A frame is a 16-byte header followed by `length` payload bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <array>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace rngpool::protocol {

// ---------------------------------------------------------------------------
// Constants
//
// The magic byte is not printable ASCII (and not valid UTF-8), so the first
// byte of a connection tells a binary client from a person typing at nc -U.
// ---------------------------------------------------------------------------

inline constexpr std::uint8_t kMagic = 0xF5;
inline constexpr std::uint8_t kVersion = 1;
inline constexpr std::size_t kHeaderSize = 16;
// Requests carry tiny payloads; anything longer is refused before a byte of
// it is buffered.
inline constexpr std::uint32_t kMaxRequestPayload = 64;
// Replies to opcodes carry the request's opcode with this bit set.
inline constexpr std::uint8_t kReplyBit = 0x80;
// An error reply's message is for a person and short; a client may refuse a
// longer one rather than buffer it (PROTOCOL.md §7).
inline constexpr std::uint32_t kMaxErrorMessage = 1024;

enum class Opcode : std::uint8_t {
  get_random = 0x01,  // payload: u32 count; reply payload: count random bytes
  status = 0x02,      // payload: none; reply payload: status report (key: value lines)
  ping = 0x03,        // payload: none; reply payload: none
};

enum class Status : std::uint8_t {
  ok = 0,
  bad_frame = 1,            // fatal: the connection is closed after the reply
  unsupported_version = 2,  // fatal
  unknown_opcode = 3,
  too_large = 4,
  not_ready = 5,
  hwrng_unavailable = 6,
  busy = 7,
  permission_denied = 8,
  internal = 9,
};

namespace flags {
inline constexpr std::uint16_t prediction_resistance = 0x0001;  // reseed before serving
inline constexpr std::uint16_t require_hwrng = 0x0002;  // fail unless the hwrng is healthy and in the key
inline constexpr std::uint16_t nonblock = 0x0004;       // NOT_READY instead of waiting for the first seed
inline constexpr std::uint16_t known = prediction_resistance | require_hwrng | nonblock;
}  // namespace flags

// "OK", "BAD_FRAME", ...: the names used in text mode and in client errors.
std::string_view status_name(Status status);
std::optional<Status> status_from_name(std::string_view name);
// Fatal statuses end the connection after their reply.
bool is_fatal(Status status);
std::string_view opcode_name(Opcode opcode);

// ---------------------------------------------------------------------------
// Header
// ---------------------------------------------------------------------------

struct Header {
  std::uint8_t version = kVersion;
  std::uint8_t opcode = 0;  // Opcode value; | kReplyBit on replies
  Status status = Status::ok;  // always ok in requests
  std::uint16_t flags = 0;
  std::uint32_t request_id = 0;
  std::uint32_t length = 0;  // payload bytes that follow the header
  bool operator==(const Header&) const = default;
};

using HeaderBytes = std::span<std::uint8_t, kHeaderSize>;
void encode_header(const Header& header, HeaderBytes out);

struct DecodeError {
  Status status;       // bad_frame, unsupported_version, unknown_opcode, ...
  std::string reason;  // precise, for a person: "payload length 4294967295 exceeds 64"
  std::uint32_t request_id = 0;  // echoed in the error reply when the header was readable
  std::uint8_t opcode = 0;       // request opcode to echo (without kReplyBit); 0 when unreadable
  bool operator==(const DecodeError&) const = default;
};

// ---------------------------------------------------------------------------
// Building frames
// ---------------------------------------------------------------------------

std::vector<std::uint8_t> encode_request(Opcode opcode, std::uint32_t request_id,
                                         std::uint16_t flags = 0,
                                         std::span<const std::uint8_t> payload = {});
std::vector<std::uint8_t> encode_get_random(std::uint32_t request_id, std::uint32_t count,
                                            std::uint16_t flags = 0);
// A reply header for `opcode` with `payload_length` bytes to follow.
Header reply_header(Opcode opcode, std::uint32_t request_id, Status status,
                    std::uint32_t payload_length);
// A complete error reply: header plus a UTF-8 message as payload, cut to
// kMaxErrorMessage bytes at a character boundary.  `opcode` is the raw request
// opcode (DecodeError::opcode); the reply bit is added here.
std::vector<std::uint8_t> encode_error_reply(std::uint8_t opcode, std::uint32_t request_id,
                                             Status status, std::string_view message);

// ---------------------------------------------------------------------------
// Decoding requests (daemon side)
//
// Incremental: feed() any split of the byte stream and next() yields the same
// sequence of requests.  It never buffers more than one header plus
// kMaxRequestPayload bytes, whatever a length field claims.  After a fatal
// error next() keeps returning that error.
// ---------------------------------------------------------------------------

struct Request {
  Header header;
  Opcode opcode;
  std::uint32_t count = 0;  // GET_RANDOM only
  bool operator==(const Request&) const = default;
};

class RequestDecoder {
 public:
  // Consumes bytes; returns how many were taken.  It stops taking bytes after
  // a complete request or an error, so call next() and feed the rest again.
  std::size_t feed(std::span<const std::uint8_t> bytes);
  using Result = std::variant<std::monostate, Request, DecodeError>;
  // monostate: need more bytes.
  Result next();
  // Bytes held for the request being decoded: never above kHeaderSize +
  // kMaxRequestPayload (tests and fuzzers check it).
  std::size_t buffered() const { return fill_; }

 private:
  std::size_t next_checkpoint() const;
  bool frame_complete() const;
  void check_arrived();

  std::array<std::uint8_t, kHeaderSize + kMaxRequestPayload> buffer_{};
  std::size_t fill_ = 0;
  std::optional<DecodeError> fatal_;
};

// ---------------------------------------------------------------------------
// Decoding replies (client side)
//
// The client reads the header, checks it, then reads `length` payload bytes
// straight into the caller's buffer, so large replies are never copied twice.
// ---------------------------------------------------------------------------

// Checks magic, version, reply bit, a known status and opcode.
std::variant<Header, DecodeError> decode_reply_header(std::span<const std::uint8_t, kHeaderSize> bytes);

}  // namespace rngpool::protocol
