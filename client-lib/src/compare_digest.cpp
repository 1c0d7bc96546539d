// compare_digest: equality that takes the same time whatever the contents.
//
// A comparison that stops at the first difference tells an attacker, through
// its timing, how many leading bytes of a guessed MAC were right.  OpenSSL's
// CRYPTO_memcmp reads every byte; as in Python, only the lengths may show.
#include "rngpool/client.hpp"

#include <openssl/crypto.h>

namespace rngpool {

bool compare_digest(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  if (a.size() != b.size()) return false;
  return a.empty() || CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool compare_digest(std::string_view a, std::string_view b) {
  return compare_digest(std::span(reinterpret_cast<const std::uint8_t*>(a.data()), a.size()),
                        std::span(reinterpret_cast<const std::uint8_t*>(b.data()), b.size()));
}

}  // namespace rngpool
