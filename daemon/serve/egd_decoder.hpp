// The EGD protocol's request decoder (PROTOCOL.md §13): pure, like the frame
// and line decoders in protocol/, and driven the same way (feed() a piece,
// next() until nothing is left), so how read() cut the stream never matters.
//
// EGD (the Entropy Gathering Daemon's socket protocol, which QEMU's rng-egd
// and libvirt's <backend model='egd'> speak) has no framing, no request ids
// and no error replies: a request is a command byte and a fixed number of
// argument bytes that the command byte implies.  So a command byte the
// decoder does not know leaves no way to find the next request, and is final.
//
// Only the client library never needs it, which is why it lives with the
// daemon's EGD front-end instead of in protocol/.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace rngpool::server {

namespace egd {
// The command bytes (PROTOCOL.md §13.2).
inline constexpr std::uint8_t kEntropyLevel = 0x00;  // -> U32 BE bits
inline constexpr std::uint8_t kReadNonblocking = 0x01;  // n -> U8 count, count bytes
inline constexpr std::uint8_t kReadBlocking = 0x02;  // n -> n bytes
inline constexpr std::uint8_t kAddEntropy = 0x03;  // U16 BE bits, U8 n, n bytes -> nothing
inline constexpr std::uint8_t kPid = 0x04;  // -> U8 len, ASCII pid
// The longest request: 0x03 with 255 bytes.
inline constexpr std::size_t kMaxRequest = 4 + 255;
}  // namespace egd

struct EgdRequest {
  enum class Kind { entropy_level, read_nonblocking, read_blocking, add_entropy, pid };
  Kind kind;
  std::uint8_t count = 0;           // 0x01, 0x02: bytes asked for; 0x03: bytes given
  std::uint16_t bits = 0;           // 0x03: entropy the client claims (never credited)
  std::vector<std::uint8_t> bytes;  // 0x03: what it gives
  bool operator==(const EgdRequest&) const = default;
};

// Always final: the connection ends after it.
struct EgdError {
  std::uint8_t command;
  std::string reason;
  bool operator==(const EgdError&) const = default;
};

class EgdDecoder {
 public:
  // Takes bytes up to the end of one complete request (or the bad command
  // byte), never more; 0 once a request waits for next() or after an error.
  std::size_t feed(std::span<const std::uint8_t> bytes);
  using Result = std::variant<std::monostate, EgdRequest, EgdError>;
  // The request feed() completed, the error (again and again), or monostate.
  Result next();
  // Bytes held for the request being read: never above egd::kMaxRequest.
  std::size_t buffered() const { return have_; }

 private:
  std::size_t wanted() const;
  bool complete() const { return have_ > 0 && have_ == wanted(); }
  EgdRequest request() const;

  std::array<std::uint8_t, egd::kMaxRequest> buffer_{};
  std::size_t have_ = 0;
  std::optional<EgdError> error_;
};

}  // namespace rngpool::server
