// Binary frames: names, the header codec, building frames and checking the
// headers of replies.  The request side, which must survive hostile input
// arriving in arbitrary pieces, lives in request_decoder.cpp.

#include "rngpool/protocol/frame.hpp"

#include "wire.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <stdexcept>

namespace rngpool::protocol {

// ---------------------------------------------------------------------------
// Names
//
// Text mode, client exceptions and the CLI all show statuses by the same
// names, so a person reading "ERR TOO_LARGE" in nc and a TOO_LARGE exception
// in a log knows it is the same condition (PROTOCOL.md §6).  One table serves
// both directions.
// ---------------------------------------------------------------------------

namespace {

constexpr std::array<std::string_view, 10> kStatusNames = {
    "OK",       "BAD_FRAME",        "UNSUPPORTED_VERSION", "UNKNOWN_OPCODE",    "TOO_LARGE",
    "NOT_READY", "HWRNG_UNAVAILABLE", "BUSY",               "PERMISSION_DENIED", "INTERNAL",
};

bool is_known_status(std::uint8_t status)
{
  return status < kStatusNames.size();
}

}  // namespace

std::string_view status_name(Status status)
{
  const auto index = static_cast<std::uint8_t>(status);
  return is_known_status(index) ? kStatusNames[index] : std::string_view{"UNKNOWN_STATUS"};
}

std::optional<Status> status_from_name(std::string_view name)
{
  const auto it = std::find(kStatusNames.begin(), kStatusNames.end(), name);
  if (it == kStatusNames.end())
    return std::nullopt;
  return static_cast<Status>(it - kStatusNames.begin());
}

// PROTOCOL.md §6: after these the daemon cannot trust where the next frame
// starts, so it replies and closes.
bool is_fatal(Status status)
{
  // BUSY: the daemon closes after it (PROTOCOL.md §6.2).
  return status == Status::bad_frame || status == Status::unsupported_version || status == Status::busy;
}

std::string_view opcode_name(Opcode opcode)
{
  switch (opcode) {
    case Opcode::get_random: return "GET_RANDOM";
    case Opcode::status: return "STATUS";
    case Opcode::ping: return "PING";
  }
  return "UNKNOWN_OPCODE";
}

namespace wire {

bool is_known_opcode(std::uint8_t opcode)
{
  return opcode >= static_cast<std::uint8_t>(Opcode::get_random) &&
         opcode <= static_cast<std::uint8_t>(Opcode::ping);
}

std::string hex_field(std::uint32_t value, int digits)
{
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out = "0x";
  for (int shift = 4 * (digits - 1); shift >= 0; shift -= 4)
    out += kDigits[(value >> shift) & 0xf];
  return out;
}

}  // namespace wire

// ---------------------------------------------------------------------------
// Header encoding
//
// PROTOCOL.md §3.  The reserved field is always written as zero: a receiver
// rejects anything else, which keeps it free for a later version.
// ---------------------------------------------------------------------------

void encode_header(const Header& header, HeaderBytes out)
{
  std::uint8_t* p = out.data();
  p[wire::kMagicAt] = kMagic;
  p[wire::kVersionAt] = header.version;
  p[wire::kOpcodeAt] = header.opcode;
  p[wire::kStatusAt] = static_cast<std::uint8_t>(header.status);
  wire::put_u16(p + wire::kFlagsAt, header.flags);
  wire::put_u16(p + wire::kReservedAt, 0);
  wire::put_u32(p + wire::kRequestIdAt, header.request_id);
  wire::put_u32(p + wire::kLengthAt, header.length);
}

// ---------------------------------------------------------------------------
// Building frames
//
// Whole frames in one buffer: requests and error replies are small.  Large
// GET_RANDOM replies are not built here; the daemon writes reply_header() and
// then streams the payload itself (PROTOCOL.md §5.1).
// ---------------------------------------------------------------------------

namespace {

std::uint32_t payload_length(std::size_t size)
{
  if (size > std::numeric_limits<std::uint32_t>::max())
    throw std::length_error("rngpool frame payload longer than 2^32-1 bytes");
  return static_cast<std::uint32_t>(size);
}

std::vector<std::uint8_t> frame(const Header& header, std::span<const std::uint8_t> payload)
{
  std::vector<std::uint8_t> out(kHeaderSize + payload.size());
  encode_header(header, HeaderBytes{out.data(), kHeaderSize});
  std::copy(payload.begin(), payload.end(), out.begin() + kHeaderSize);
  return out;
}

// Cutting a UTF-8 message must not split a character: back up over
// continuation bytes (10xxxxxx) to the start of the one that does not fit.
std::string_view cut_utf8(std::string_view text, std::size_t limit)
{
  if (text.size() <= limit)
    return text;
  std::size_t end = limit;
  while (end > 0 && (static_cast<std::uint8_t>(text[end]) & 0xC0) == 0x80)
    --end;
  return text.substr(0, end);
}

}  // namespace

std::vector<std::uint8_t> encode_request(Opcode opcode, std::uint32_t request_id,
                                         std::uint16_t flags,
                                         std::span<const std::uint8_t> payload)
{
  Header header;
  header.opcode = static_cast<std::uint8_t>(opcode);
  header.flags = flags;
  header.request_id = request_id;
  header.length = payload_length(payload.size());
  return frame(header, payload);
}

// PROTOCOL.md §5.1: the payload of GET_RANDOM is the count as a u32.
std::vector<std::uint8_t> encode_get_random(std::uint32_t request_id, std::uint32_t count,
                                            std::uint16_t flags)
{
  std::array<std::uint8_t, 4> payload{};
  wire::put_u32(payload.data(), count);
  return encode_request(Opcode::get_random, request_id, flags, payload);
}

Header reply_header(Opcode opcode, std::uint32_t request_id, Status status,
                    std::uint32_t payload_length)
{
  Header header;
  header.opcode = static_cast<std::uint8_t>(static_cast<std::uint8_t>(opcode) | kReplyBit);
  header.status = status;
  header.request_id = request_id;
  header.length = payload_length;
  return header;
}

std::vector<std::uint8_t> encode_error_reply(std::uint8_t opcode, std::uint32_t request_id,
                                             Status status, std::string_view message)
{
  const std::string_view text = cut_utf8(message, kMaxErrorMessage);
  Header header;
  header.opcode = static_cast<std::uint8_t>(opcode | kReplyBit);
  header.status = status;
  header.request_id = request_id;
  header.length = payload_length(text.size());
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(text.data());
  return frame(header, {bytes, text.size()});
}

// ---------------------------------------------------------------------------
// Reply headers (client side)
//
// The client trusts nothing it has not checked: a header that fails here
// means the stream is out of step and the connection must be dropped.  An
// error reply may carry an opcode the daemon did not know, or 0 when the
// request header was unreadable (PROTOCOL.md §7), so only OK replies must
// name a known opcode.
// ---------------------------------------------------------------------------

namespace {

DecodeError reply_error(Status status, std::string reason, const wire::RawHeader& raw)
{
  return DecodeError{status, std::move(reason), raw.request_id,
                     static_cast<std::uint8_t>(raw.opcode & ~kReplyBit)};
}

}  // namespace

std::variant<Header, DecodeError> decode_reply_header(std::span<const std::uint8_t, kHeaderSize> bytes)
{
  const wire::RawHeader raw = wire::read_header(bytes.data());
  const auto opcode = static_cast<std::uint8_t>(raw.opcode & ~kReplyBit);
  if (raw.magic != kMagic)
    return reply_error(Status::bad_frame, "bad magic " + wire::hex_field(raw.magic, 2), raw);
  if (raw.version != kVersion)
    return reply_error(Status::unsupported_version,
                       "unsupported version " + std::to_string(raw.version), raw);
  if ((raw.opcode & kReplyBit) == 0)
    return reply_error(Status::bad_frame, "reply bit missing in a reply", raw);
  if (!is_known_status(raw.status))
    return reply_error(Status::bad_frame, "unknown status " + std::to_string(raw.status), raw);
  if (raw.reserved != 0)
    return reply_error(Status::bad_frame, "reserved field must be 0", raw);
  if (raw.status == static_cast<std::uint8_t>(Status::ok) && !wire::is_known_opcode(opcode))
    return reply_error(Status::bad_frame, "unknown opcode " + wire::hex_field(opcode, 2), raw);

  Header header;
  header.version = raw.version;
  header.opcode = raw.opcode;
  header.status = static_cast<Status>(raw.status);
  header.flags = raw.flags;
  header.request_id = raw.request_id;
  header.length = raw.length;
  return header;
}

}  // namespace rngpool::protocol
