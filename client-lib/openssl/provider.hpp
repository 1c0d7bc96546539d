// rngpool.so, an OpenSSL 3 provider: what its two halves share.
//
// provider.cpp is the module's face to OpenSSL (init, the algorithm table,
// configuration, reason strings); rand.cpp is the RAND implementation every
// registered name (CTR-DRBG, SEED-SRC, RNGPOOL) maps to.  Every byte comes
// from librngpool's C API, so the protocol, the reconnect and the fork
// handling are the library's, shared with every other client.
#pragma once

#include <openssl/core.h>
#include <openssl/core_dispatch.h>

#include <string>

namespace rngpool::openssl {

// The provider's configuration, read once at init from its config section.
struct ProviderContext {
  const OSSL_CORE_HANDLE* handle = nullptr;
  std::string socket;  // "" = librngpool's default ($RNGPOOL_SOCKET, then the default path)
  unsigned flags = 0;  // RNGPOOL_REQUIRE_HWRNG, RNGPOOL_PREDICTION_RESISTANCE, RNGPOOL_NO_LOCAL_GENERATOR
  std::string config_error;  // non-empty: every draw fails with it (fail closed)
  OSSL_FUNC_core_new_error_fn* new_error = nullptr;
  OSSL_FUNC_core_set_error_debug_fn* set_error_debug = nullptr;
  OSSL_FUNC_core_vset_error_fn* vset_error = nullptr;
};

// Reason codes this provider raises (registered as reason strings).
enum Reason : int {
  reason_daemon = 1,       // the daemon or the connection to it failed
  reason_not_instantiated,  // generate before instantiate, or after uninstantiate
  reason_out_of_memory,
  reason_bad_config,        // a value in the provider's config section is not understood
};

// Puts one error on the calling thread's OpenSSL error queue, through the
// core's upcalls (a provider has no ERR library code of its own otherwise).
void raise_error(const ProviderContext& provider, Reason reason, const char* file, int line,
                 const char* function, const char* format, ...)
    __attribute__((format(printf, 6, 7)));

#define RNGPOOL_RAISE(provider, reason, ...) \
  ::rngpool::openssl::raise_error((provider), (reason), __FILE__, __LINE__, __func__, __VA_ARGS__)

extern const OSSL_DISPATCH rand_functions[];

}  // namespace rngpool::openssl
