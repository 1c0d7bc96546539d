// Text encodings of random bytes.
//
// Text mode (HEX, BASE64) and the client library (token_hex, token_urlsafe)
// must print the same bytes the same way, and token_urlsafe must match what
// Python's secrets module prints so tokens are interchangeable between the
// two; hence one implementation here rather than one per user.

#include "rngpool/protocol/encoding.hpp"

#include <string_view>

namespace rngpool::protocol {

// ---------------------------------------------------------------------------
// Hex
//
// RFC 4648 §8 (base16) with lowercase digits: the RFC writes uppercase but
// lets the case vary, and lowercase is what Python's token_hex prints.
// ---------------------------------------------------------------------------

std::string to_hex(std::span<const std::uint8_t> bytes)
{
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * bytes.size());
  for (const std::uint8_t byte : bytes) {
    out += kDigits[byte >> 4];
    out += kDigits[byte & 0xf];
  }
  return out;
}

// ---------------------------------------------------------------------------
// Base64
//
// RFC 4648 §4 and §5 differ only in two alphabet letters and, as Python's
// token_urlsafe uses it, in dropping the '=' padding; one encoder takes both
// as parameters.  Each 3-byte group becomes 4 characters; a final group of 1
// or 2 bytes becomes 2 or 3 characters, then padding (RFC 4648 §4).
// ---------------------------------------------------------------------------

namespace {

constexpr std::string_view kBase64 =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";  // RFC 4648 §4
constexpr std::string_view kBase64Url =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";  // RFC 4648 §5

std::string base64(std::span<const std::uint8_t> bytes, std::string_view alphabet, bool pad)
{
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t group = (std::uint32_t{bytes[i]} << 16) |
                                (std::uint32_t{bytes[i + 1]} << 8) | bytes[i + 2];
    for (int shift = 18; shift >= 0; shift -= 6)
      out += alphabet[(group >> shift) & 0x3f];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 0)
    return out;
  std::uint32_t group = std::uint32_t{bytes[i]} << 16;
  if (rest == 2)
    group |= std::uint32_t{bytes[i + 1]} << 8;
  const int chars = static_cast<int>(rest) + 1;
  for (int k = 0; k < chars; ++k)
    out += alphabet[(group >> (18 - 6 * k)) & 0x3f];
  if (pad)
    out.append(static_cast<std::size_t>(4 - chars), '=');
  return out;
}

}  // namespace

std::string to_base64(std::span<const std::uint8_t> bytes)
{
  return base64(bytes, kBase64, true);
}

std::string to_base64url(std::span<const std::uint8_t> bytes)
{
  return base64(bytes, kBase64Url, false);
}

}  // namespace rngpool::protocol
