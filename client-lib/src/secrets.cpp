// The process-wide default client behind the free functions.
//
// Made on first use (thread-safe, as any function-local static) and never
// destroyed, so a free function called from another static's destructor
// still works.
#include "rngpool/secrets.hpp"

namespace rngpool {

Client& default_client() {
  static Client* const client = new Client();
  return *client;
}

std::vector<std::uint8_t> token_bytes(std::size_t nbytes) { return default_client().token_bytes(nbytes); }
std::string token_hex(std::size_t nbytes) { return default_client().token_hex(nbytes); }
std::string token_urlsafe(std::size_t nbytes) { return default_client().token_urlsafe(nbytes); }
std::uint64_t randbelow(std::uint64_t n) { return default_client().randbelow(n); }
std::uint64_t randbits(unsigned k) { return default_client().randbits(k); }
std::string password(const PasswordPolicy& policy) { return default_client().password(policy); }
std::string passphrase(std::size_t words, const std::string& wordlist, std::string_view separator) {
  return default_client().passphrase(words, wordlist, separator);
}

}  // namespace rngpool
