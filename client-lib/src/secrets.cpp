// The process-wide default client behind the free functions.
//
// Made on first use and never destroyed, so a free function called from
// another static's destructor still works.  Made without a lock or a static's
// guard: a thread that another thread's fork() catches halfway through making
// it does not exist in the child, and a guard it left "in progress" would
// keep the child's first call waiting forever.  When two threads race, one
// client is kept and the other, never used, is destroyed.
#include "rngpool/secrets.hpp"

#include <atomic>
#include <memory>

namespace rngpool {

Client& default_client() {
  static constinit std::atomic<Client*> made{nullptr};
  if (Client* client = made.load(std::memory_order_acquire)) return *client;
  auto fresh = std::make_unique<Client>();
  Client* first = nullptr;
  if (made.compare_exchange_strong(first, fresh.get(), std::memory_order_acq_rel,
                                   std::memory_order_acquire)) {
    return *fresh.release();
  }
  return *first;
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
