// Free functions over one process-wide Client, as `import secrets` feels.
//
// The default client is made on first use from $RNGPOOL_SOCKET (else the
// system socket) and lives until the process exits.  The variable is read with
// secure_getenv(3), so a setuid or setgid program ignores it.  Like every
// Client, it serves from the calling thread's local generator (client.hpp,
// README "The local generator") unless $RNGPOOL_LOCAL_GENERATOR=0.
#pragma once

#include "rngpool/client.hpp"

namespace rngpool {

RNGPOOL_API Client& default_client();

RNGPOOL_API std::vector<std::uint8_t> token_bytes(std::size_t nbytes = kDefaultTokenBytes);
RNGPOOL_API std::string token_hex(std::size_t nbytes = kDefaultTokenBytes);
RNGPOOL_API std::string token_urlsafe(std::size_t nbytes = kDefaultTokenBytes);
RNGPOOL_API std::uint64_t randbelow(std::uint64_t n);
RNGPOOL_API std::uint64_t randbits(unsigned k);
RNGPOOL_API std::string password(const PasswordPolicy& policy = {});
RNGPOOL_API std::string passphrase(std::size_t words = kDefaultPassphraseWords,
                                   const std::string& wordlist = {},
                                   std::string_view separator = " ");

template <std::ranges::random_access_range R>
  requires std::ranges::sized_range<R>
decltype(auto) choice(R&& population) {
  return default_client().choice(std::forward<R>(population));
}

template <std::ranges::random_access_range R>
  requires std::ranges::sized_range<R>
auto sample(const R& population, std::size_t k) {
  return default_client().sample(population, k);
}

template <std::ranges::random_access_range R>
  requires std::ranges::sized_range<R>
void shuffle(R&& range) {
  default_client().shuffle(std::forward<R>(range));
}

}  // namespace rngpool
