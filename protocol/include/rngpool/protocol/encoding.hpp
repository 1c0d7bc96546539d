// Text encodings of random bytes, shared by text mode and the client library.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace rngpool::protocol {

std::string to_hex(std::span<const std::uint8_t> bytes);        // lowercase, 2 digits a byte
std::string to_base64(std::span<const std::uint8_t> bytes);     // RFC 4648 §4, padded
std::string to_base64url(std::span<const std::uint8_t> bytes);  // RFC 4648 §5, no padding (as Python's token_urlsafe)

}  // namespace rngpool::protocol
