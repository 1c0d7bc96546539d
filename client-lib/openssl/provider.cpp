// rngpool.so's entry point: OSSL_provider_init, its configuration, its
// algorithm table and its errors.
#include "provider.hpp"

#include "rngpool/rngpool.h"

#include <openssl/core_names.h>
#include <openssl/params.h>

#include <cstdarg>
#include <cstring>
#include <new>

namespace rngpool::openssl {

// ---- errors ----
// OpenSSL gives a loaded provider its own library code and files the errors
// it raises through the core's upcalls under it; the reason strings below
// make `openssl rand` print words rather than "reason(1)".

void raise_error(const ProviderContext& provider, Reason reason, const char* file, int line,
                 const char* function, const char* format, ...) {
  if (!provider.new_error || !provider.set_error_debug || !provider.vset_error) return;
  provider.new_error(provider.handle);
  provider.set_error_debug(provider.handle, file, line, function);
  va_list args;
  va_start(args, format);
  provider.vset_error(provider.handle, static_cast<uint32_t>(reason), format, args);
  va_end(args);
}

namespace {

const OSSL_ITEM reason_strings[] = {
    {reason_daemon, const_cast<char*>("rngpoold could not provide random bytes")},
    {reason_not_instantiated, const_cast<char*>("rngpool generator not instantiated")},
    {reason_out_of_memory, const_cast<char*>("out of memory")},
    {reason_bad_config, const_cast<char*>("bad rngpool provider configuration")},
    {0, nullptr}};

// ---- configuration ----
// The keys of the provider's openssl.cnf section reach it through the core's
// get_params upcall.  A value that is not understood must fail closed, and
// failing the load would not: OpenSSL then seeds from the OS without a word.
// So the provider loads, and every draw fails naming the bad key: an
// operator who wrote `require_hwrng = maybe` never gets bytes that silently
// ignore it.

struct ConfigText {
  char* socket = nullptr;
  char* require_hwrng = nullptr;
  char* prediction_resistance = nullptr;
  char* local_generator = nullptr;
  char* local_cipher = nullptr;
};

bool read_config(const OSSL_DISPATCH* in, const OSSL_CORE_HANDLE* handle, ConfigText& text) {
  OSSL_FUNC_core_get_params_fn* get_params = nullptr;
  for (; in->function_id != 0; ++in) {
    if (in->function_id == OSSL_FUNC_CORE_GET_PARAMS) get_params = OSSL_FUNC_core_get_params(in);
  }
  if (!get_params) return true;  // no configuration to read
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_ptr("socket", &text.socket, 0),
      OSSL_PARAM_construct_utf8_ptr("require_hwrng", &text.require_hwrng, 0),
      OSSL_PARAM_construct_utf8_ptr("prediction_resistance", &text.prediction_resistance, 0),
      OSSL_PARAM_construct_utf8_ptr("local_generator", &text.local_generator, 0),
      OSSL_PARAM_construct_utf8_ptr("local_cipher", &text.local_cipher, 0),
      OSSL_PARAM_construct_end()};
  return get_params(handle, params) == 1;
}

// `value` is one of two words: `out` is true for the first, false for the
// second, `fallback` when the key is absent; anything else is a
// configuration error.
bool parse_either(ProviderContext& provider, const char* key, const char* value, const char* first,
                  const char* second, bool fallback, bool& out) {
  if (!value) {
    out = fallback;
    return true;
  }
  if (std::strcmp(value, first) == 0 || std::strcmp(value, second) == 0) {
    out = std::strcmp(value, first) == 0;
    return true;
  }
  provider.config_error = std::string(key) + " = \"" + value + "\": expected " + first + " or " + second;
  return false;
}

bool parse_yes_no(ProviderContext& provider, const char* key, const char* value, bool fallback, bool& out) {
  return parse_either(provider, key, value, "yes", "no", fallback, out);
}

// local_generator (default yes): librngpool's per-thread fast-key-erasure
// generator, keyed by the daemon (README › The local generator).  `no` sends
// every draw to the daemon, for an operator who wants each byte to be one the
// daemon served and counted, at a daemon round trip per call.
// local_cipher (default aes-256-ctr): the generator's cipher.  AES-256-CTR is
// the primitive of the CTR-DRBG this provider stands in for, and on a CPU
// with AES instructions it makes a 64 KiB RAND_bytes twice as fast as
// ChaCha20 does (README › OpenSSL).
void configure(ProviderContext& provider, const ConfigText& text) {
  if (text.socket) provider.socket = text.socket;
  bool require_hwrng = false, prediction_resistance = false, local_generator = true, aes = true;
  if (!parse_yes_no(provider, "require_hwrng", text.require_hwrng, false, require_hwrng) ||
      !parse_yes_no(provider, "prediction_resistance", text.prediction_resistance, false, prediction_resistance) ||
      !parse_yes_no(provider, "local_generator", text.local_generator, true, local_generator) ||
      !parse_either(provider, "local_cipher", text.local_cipher, "aes-256-ctr", "chacha20", true, aes)) {
    return;
  }
  if (require_hwrng) provider.flags |= RNGPOOL_REQUIRE_HWRNG;
  if (prediction_resistance) provider.flags |= RNGPOOL_PREDICTION_RESISTANCE;
  if (!local_generator) provider.flags |= RNGPOOL_NO_LOCAL_GENERATOR;
  if (aes) provider.flags |= RNGPOOL_LOCAL_AES256_CTR;
}

void take_error_upcalls(ProviderContext& provider, const OSSL_DISPATCH* in) {
  for (; in->function_id != 0; ++in) {
    switch (in->function_id) {
      case OSSL_FUNC_CORE_NEW_ERROR: provider.new_error = OSSL_FUNC_core_new_error(in); break;
      case OSSL_FUNC_CORE_SET_ERROR_DEBUG:
        provider.set_error_debug = OSSL_FUNC_core_set_error_debug(in);
        break;
      case OSSL_FUNC_CORE_VSET_ERROR: provider.vset_error = OSSL_FUNC_core_vset_error(in); break;
      default: break;
    }
  }
}

// ---- algorithms ----
// CTR-DRBG and SEED-SRC are the names OpenSSL's [random] section and its
// primary generator fetch; the property lets `random_properties =
// provider=rngpool` pick ours over the default provider's.  RNGPOOL is the
// unambiguous name for `random = RNGPOOL`.  All three are the same RAND: a
// pass-through to rngpoold, strong enough (256 bits) to parent any DRBG.

const OSSL_ALGORITHM rand_algorithms[] = {
    {"CTR-DRBG", "provider=rngpool", rand_functions, "random bytes from rngpoold"},
    {"SEED-SRC", "provider=rngpool", rand_functions, "seed material from rngpoold"},
    {"RNGPOOL", "provider=rngpool", rand_functions, "random bytes from rngpoold"},
    {nullptr, nullptr, nullptr, nullptr}};

const OSSL_ALGORITHM* query(void*, int operation_id, int* no_cache) {
  *no_cache = 0;
  return operation_id == OSSL_OP_RAND ? rand_algorithms : nullptr;
}

const OSSL_PARAM* gettable_params(void*) {
  static const OSSL_PARAM params[] = {
      OSSL_PARAM_utf8_ptr(OSSL_PROV_PARAM_NAME, nullptr, 0),
      OSSL_PARAM_utf8_ptr(OSSL_PROV_PARAM_VERSION, nullptr, 0),
      OSSL_PARAM_int(OSSL_PROV_PARAM_STATUS, nullptr), OSSL_PARAM_END};
  return params;
}

int get_params(void*, OSSL_PARAM params[]) {
  OSSL_PARAM* p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_NAME);
  if (p && !OSSL_PARAM_set_utf8_ptr(p, "rngpool provider")) return 0;
  p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_VERSION);
  if (p && !OSSL_PARAM_set_utf8_ptr(p, RNGPOOL_VERSION)) return 0;
  p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_STATUS);
  if (p && !OSSL_PARAM_set_int(p, 1)) return 0;
  return 1;
}

const OSSL_ITEM* get_reason_strings(void*) { return reason_strings; }

void teardown(void* provctx) { delete static_cast<ProviderContext*>(provctx); }

const OSSL_DISPATCH provider_functions[] = {
    {OSSL_FUNC_PROVIDER_TEARDOWN, reinterpret_cast<void (*)()>(teardown)},
    {OSSL_FUNC_PROVIDER_QUERY_OPERATION, reinterpret_cast<void (*)()>(query)},
    {OSSL_FUNC_PROVIDER_GETTABLE_PARAMS, reinterpret_cast<void (*)()>(gettable_params)},
    {OSSL_FUNC_PROVIDER_GET_PARAMS, reinterpret_cast<void (*)()>(get_params)},
    {OSSL_FUNC_PROVIDER_GET_REASON_STRINGS, reinterpret_cast<void (*)()>(get_reason_strings)},
    {0, nullptr}};

}  // namespace
}  // namespace rngpool::openssl

extern "C" __attribute__((visibility("default"))) int OSSL_provider_init(
    const OSSL_CORE_HANDLE* handle, const OSSL_DISPATCH* in, const OSSL_DISPATCH** out,
    void** provctx) {
  using namespace rngpool::openssl;
  auto* provider = new (std::nothrow) ProviderContext;
  if (!provider) return 0;
  provider->handle = handle;
  take_error_upcalls(*provider, in);
  ConfigText text;
  try {
    if (!read_config(in, handle, text)) {
      provider->config_error = "cannot read the provider's configuration section";
    } else {
      configure(*provider, text);
    }
  } catch (const std::bad_alloc&) {
    delete provider;
    return 0;
  }
  *out = provider_functions;
  *provctx = provider;
  return 1;
}
