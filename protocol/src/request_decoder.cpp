// Decoding requests: the daemon's side of the binary protocol.
//
// This is the code that meets hostile bytes first, so it is built around two
// promises (PROTOCOL.md §8).  It is incremental: the result depends only on
// the bytes, never on how read() happened to split them, because every check
// runs at a fixed offset of the frame.  And it is bounded: a header is checked
// as soon as its 16 bytes are in, before any payload is taken, so a length
// field can never make it hold more than kHeaderSize + kMaxRequestPayload.

#include "rngpool/protocol/frame.hpp"

#include "wire.hpp"

#include <algorithm>

namespace rngpool::protocol {

// ---------------------------------------------------------------------------
// Header checks
//
// Magic and version are checked on the byte they arrive in: a stray text or
// a newer client is told at once instead of after 16 bytes that may never
// come, and their other fields cannot be trusted, so the error carries no
// request id.  The remaining checks run on the full header in the order of
// PROTOCOL.md §8; the first failure is the reason given.
// ---------------------------------------------------------------------------

namespace {

DecodeError bad_frame(std::string reason, const wire::RawHeader& raw)
{
  return DecodeError{Status::bad_frame, std::move(reason), raw.request_id,
                     static_cast<std::uint8_t>(raw.opcode & ~kReplyBit)};
}

std::optional<DecodeError> check_magic(std::uint8_t magic)
{
  if (magic == kMagic)
    return std::nullopt;
  return DecodeError{Status::bad_frame, "bad magic " + wire::hex_field(magic, 2)};
}

std::optional<DecodeError> check_version(std::uint8_t version)
{
  if (version == kVersion)
    return std::nullopt;
  return DecodeError{Status::unsupported_version, "unsupported version " + std::to_string(version)};
}

// PROTOCOL.md §5: the exact payload size of each known opcode.
std::optional<std::uint32_t> payload_size_of(std::uint8_t opcode)
{
  switch (static_cast<Opcode>(opcode)) {
    case Opcode::get_random: return 4;
    case Opcode::status:
    case Opcode::ping: return 0;
  }
  return std::nullopt;
}

std::optional<DecodeError> check_payload_size(const wire::RawHeader& raw)
{
  if (raw.length > kMaxRequestPayload)
    return bad_frame("payload length " + std::to_string(raw.length) + " exceeds " +
                         std::to_string(kMaxRequestPayload),
                     raw);
  const auto expected = payload_size_of(raw.opcode);
  if (!expected || raw.length == *expected)
    return std::nullopt;
  return bad_frame(std::string{opcode_name(static_cast<Opcode>(raw.opcode))} +
                       " payload must be " + std::to_string(*expected) + " bytes, got " +
                       std::to_string(raw.length),
                   raw);
}

std::optional<DecodeError> check_header(const wire::RawHeader& raw)
{
  if (raw.opcode & kReplyBit)
    return bad_frame("reply bit set in a request", raw);
  if (raw.status != 0)
    return bad_frame("nonzero status in a request", raw);
  if (raw.reserved != 0)
    return bad_frame("reserved field must be 0", raw);
  if (const auto unknown = static_cast<std::uint16_t>(raw.flags & ~flags::known))
    return bad_frame("unknown flags " + wire::hex_field(unknown, 4), raw);
  return check_payload_size(raw);
}

// An unknown opcode is not fatal: its length was checked, so the daemon knows
// where the next frame starts and can answer UNKNOWN_OPCODE and go on.
DecodeError unknown_opcode(const wire::RawHeader& raw)
{
  return DecodeError{Status::unknown_opcode, "unknown opcode " + wire::hex_field(raw.opcode, 2),
                     raw.request_id, raw.opcode};
}

Request make_request(const wire::RawHeader& raw, const std::uint8_t* payload)
{
  Request request{};
  request.header.version = raw.version;
  request.header.opcode = raw.opcode;
  request.header.flags = raw.flags;
  request.header.request_id = raw.request_id;
  request.header.length = raw.length;
  request.opcode = static_cast<Opcode>(raw.opcode);
  if (request.opcode == Opcode::get_random)
    request.count = wire::get_u32(payload);
  return request;
}

}  // namespace

// ---------------------------------------------------------------------------
// Feeding
//
// Bytes are taken up to the next checkpoint (magic, version, full header,
// full frame) and checked there.  Stopping after a complete frame lets the
// caller answer requests one at a time in order (PROTOCOL.md §9) without the
// decoder queueing a pipeline of them.
// ---------------------------------------------------------------------------

std::size_t RequestDecoder::next_checkpoint() const
{
  if (fill_ <= wire::kVersionAt)
    return fill_ + 1;
  if (fill_ < kHeaderSize)
    return kHeaderSize;
  return kHeaderSize + wire::get_u32(buffer_.data() + wire::kLengthAt);
}

bool RequestDecoder::frame_complete() const
{
  return fill_ >= kHeaderSize && fill_ == next_checkpoint();
}

void RequestDecoder::check_arrived()
{
  if (fill_ == wire::kMagicAt + 1)
    fatal_ = check_magic(buffer_[wire::kMagicAt]);
  else if (fill_ == wire::kVersionAt + 1)
    fatal_ = check_version(buffer_[wire::kVersionAt]);
  else if (fill_ == kHeaderSize)
    fatal_ = check_header(wire::read_header(buffer_.data()));
}

std::size_t RequestDecoder::feed(std::span<const std::uint8_t> bytes)
{
  std::size_t taken = 0;
  while (!fatal_ && !frame_complete() && taken < bytes.size()) {
    const std::size_t n = std::min(next_checkpoint() - fill_, bytes.size() - taken);
    std::copy_n(bytes.data() + taken, n, buffer_.data() + fill_);
    fill_ += n;
    taken += n;
    check_arrived();
  }
  return taken;
}

// ---------------------------------------------------------------------------
// Results
// ---------------------------------------------------------------------------

RequestDecoder::Result RequestDecoder::next()
{
  if (fatal_)
    return *fatal_;
  if (!frame_complete())
    return std::monostate{};
  const wire::RawHeader raw = wire::read_header(buffer_.data());
  fill_ = 0;
  if (!wire::is_known_opcode(raw.opcode))
    return unknown_opcode(raw);
  return make_request(raw, buffer_.data() + kHeaderSize);
}

}  // namespace rngpool::protocol
