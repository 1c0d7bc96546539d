// Internal to protocol/: the byte-level layout of the 16-byte header.
//
// The request decoder and the reply decoder read the same fields at the same
// offsets, and the encoder writes them there; keeping the offsets and the
// big-endian accessors in one place is what keeps those three in agreement.
#pragma once

#include "rngpool/protocol/frame.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace rngpool::protocol::wire {

// ---------------------------------------------------------------------------
// Byte order
//
// Every multi-byte field is big-endian (PROTOCOL.md §2), written byte by byte
// so the code is the same on any host and never reads unaligned memory.
// ---------------------------------------------------------------------------

inline std::uint16_t get_u16(const std::uint8_t* p)
{
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

inline std::uint32_t get_u32(const std::uint8_t* p)
{
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) |
         (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
}

inline void put_u16(std::uint8_t* p, std::uint16_t v)
{
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}

inline void put_u32(std::uint8_t* p, std::uint32_t v)
{
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}

// ---------------------------------------------------------------------------
// Header fields
//
// Offsets from the header table in PROTOCOL.md §3.  The raw form keeps the
// status as a byte and the reserved field, which the public Header cannot
// hold, because a decoder must be able to look at invalid values to reject
// them with a reason.
// ---------------------------------------------------------------------------

inline constexpr std::size_t kMagicAt = 0;
inline constexpr std::size_t kVersionAt = 1;
inline constexpr std::size_t kOpcodeAt = 2;
inline constexpr std::size_t kStatusAt = 3;
inline constexpr std::size_t kFlagsAt = 4;
inline constexpr std::size_t kReservedAt = 6;
inline constexpr std::size_t kRequestIdAt = 8;
inline constexpr std::size_t kLengthAt = 12;

struct RawHeader {
  std::uint8_t magic;
  std::uint8_t version;
  std::uint8_t opcode;
  std::uint8_t status;
  std::uint16_t flags;
  std::uint16_t reserved;
  std::uint32_t request_id;
  std::uint32_t length;
};

inline RawHeader read_header(const std::uint8_t* p)
{
  return RawHeader{p[kMagicAt],           p[kVersionAt],           p[kOpcodeAt],
                   p[kStatusAt],          get_u16(p + kFlagsAt),   get_u16(p + kReservedAt),
                   get_u32(p + kRequestIdAt), get_u32(p + kLengthAt)};
}

// "0x41", "0x0100": how reasons show a raw field, `digits` hex digits wide.
std::string hex_field(std::uint32_t value, int digits);

bool is_known_opcode(std::uint8_t opcode);

}  // namespace rngpool::protocol::wire
