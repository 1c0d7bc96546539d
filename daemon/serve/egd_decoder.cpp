#include "serve/egd_decoder.hpp"

#include <algorithm>
#include <cstdio>

namespace rngpool::server {

// ---------------------------------------------------------------------------
// Request lengths
//
// The command byte says how long the request is: 1 byte for 0x00 and 0x04,
// 2 for 0x01 and 0x02 (the count), 4 + n for 0x03 once its fourth byte (n)
// has arrived.  0 means "not a command".
// ---------------------------------------------------------------------------

namespace {

constexpr std::size_t kAddHeader = 4;  // 0x03, U16 bits, U8 n

std::size_t fixed_length(std::uint8_t command) {
  switch (command) {
    case egd::kEntropyLevel:
    case egd::kPid:
      return 1;
    case egd::kReadNonblocking:
    case egd::kReadBlocking:
      return 2;
    case egd::kAddEntropy:
      return kAddHeader;
    default:
      return 0;
  }
}

std::string unknown_command(std::uint8_t command) {
  char text[64];
  std::snprintf(text, sizeof text, "unknown EGD command byte 0x%02x", command);
  return text;
}

}  // namespace

std::size_t EgdDecoder::wanted() const {
  const std::size_t length = fixed_length(buffer_[0]);
  if (buffer_[0] == egd::kAddEntropy && have_ >= kAddHeader)
    return kAddHeader + buffer_[3];
  return length;
}

// ---------------------------------------------------------------------------
// Feeding
// ---------------------------------------------------------------------------

std::size_t EgdDecoder::feed(std::span<const std::uint8_t> bytes) {
  std::size_t taken = 0;
  while (taken < bytes.size() && !error_ && !complete()) {
    if (have_ == 0 && fixed_length(bytes[taken]) == 0) {
      error_ = EgdError{bytes[taken], unknown_command(bytes[taken])};
      return taken + 1;
    }
    if (have_ == 0)
      buffer_[have_++] = bytes[taken++];
    const std::size_t n = std::min(wanted() - have_, bytes.size() - taken);
    std::copy_n(bytes.begin() + static_cast<std::ptrdiff_t>(taken), n, buffer_.begin() + static_cast<std::ptrdiff_t>(have_));
    have_ += n;
    taken += n;
  }
  return taken;
}

EgdDecoder::Result EgdDecoder::next() {
  if (error_)
    return *error_;
  if (!complete())
    return std::monostate{};
  EgdRequest done = request();
  have_ = 0;
  return done;
}

EgdRequest EgdDecoder::request() const {
  EgdRequest request{EgdRequest::Kind::pid, 0, 0, {}};
  switch (buffer_[0]) {
    case egd::kEntropyLevel:
      request.kind = EgdRequest::Kind::entropy_level;
      break;
    case egd::kReadNonblocking:
    case egd::kReadBlocking:
      request.kind = buffer_[0] == egd::kReadBlocking ? EgdRequest::Kind::read_blocking : EgdRequest::Kind::read_nonblocking;
      request.count = buffer_[1];
      break;
    case egd::kAddEntropy:  // U16 big-endian bits, U8 n, n bytes
      request.kind = EgdRequest::Kind::add_entropy;
      request.bits = static_cast<std::uint16_t>(buffer_[1] << 8 | buffer_[2]);
      request.count = buffer_[3];
      request.bytes.assign(buffer_.begin() + kAddHeader, buffer_.begin() + static_cast<std::ptrdiff_t>(have_));
      break;
    default:
      break;
  }
  return request;
}

}  // namespace rngpool::server
