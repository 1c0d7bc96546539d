// The RAND behind every name rngpool.so registers: each generate and each
// seed is a draw through librngpool, so from its thread-local generator,
// keyed by rngpoold and rekeyed every 1 MiB and 60 s (issue 11), or, with
// `local_generator = no` or prediction resistance, from the daemon itself.
//
// Three facts of OpenSSL 3.0 shape it:
// - A seed source whose instantiate fails is dropped without a word and the
//   primary generator seeds from the OS instead.  So instantiate only opens a
//   librngpool handle (which does not connect), and it is generate/get_seed
//   that fail, loudly, while the daemon is away: never a silent fallback.
// - OpenSSL never instantiates a provider's generator again after an error.
//   So the handle outlives failures: librngpool connects again on the next
//   call, and the same process recovers as soon as the daemon is back.
// - OpenSSL reseeds its own generators in a forked child, but not a
//   provider's.  This RAND keeps no bytes of its own; librngpool's local
//   generator lives in MADV_WIPEONFORK pages, so a child reseeds before its
//   first byte, and its fork handlers give the child a fresh connection, so
//   nothing drawn for the parent reaches the child.
#include "provider.hpp"

#include "rngpool/rngpool.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/params.h>
#include <openssl/proverr.h>

#include <mutex>
#include <new>

namespace rngpool::openssl {
namespace {

// SP 800-90A's highest security strength: enough to parent any OpenSSL DRBG.
constexpr unsigned int kStrength = 256;
// Larger requests are split by OpenSSL itself (one librngpool call per chunk).
constexpr size_t kMaxRequest = 1 << 16;
// EVP_RAND_STATE_* (openssl/evp.h, which a provider need not include).
constexpr int kStateUninitialised = 0;
constexpr int kStateReady = 1;

struct RandContext {
  const ProviderContext* provider;
  std::mutex* lock = nullptr;           // made by ENABLE_LOCKING
  rngpool_client* client = nullptr;     // the configured flags
  rngpool_client* pr_client = nullptr;  // plus prediction resistance, when a caller asks for it
  int state = kStateUninitialised;
};

RandContext* context(void* vctx) { return static_cast<RandContext*>(vctx); }

void close_clients(RandContext& ctx) {
  rngpool_close(ctx.client);
  rngpool_close(ctx.pr_client);
  ctx.client = ctx.pr_client = nullptr;
}

rngpool_client* open_client(const RandContext& ctx, unsigned extra_flags) {
  const std::string& socket = ctx.provider->socket;
  return rngpool_open_with(socket.empty() ? nullptr : socket.c_str(), ctx.provider->flags | extra_flags);
}

// ---- lifecycle ----

void* newctx(void* provctx, void*, const OSSL_DISPATCH*) {
  auto* ctx = new (std::nothrow) RandContext{static_cast<const ProviderContext*>(provctx)};
  return ctx;
}

void freectx(void* vctx) {
  RandContext* ctx = context(vctx);
  if (!ctx) return;
  close_clients(*ctx);
  delete ctx->lock;
  delete ctx;
}

// Opens the handle without connecting: see the silent-fallback note above.
int instantiate(void* vctx, unsigned int strength, int, const unsigned char*, size_t,
                const OSSL_PARAM[]) {
  RandContext& ctx = *context(vctx);
  if (strength > kStrength) {
    RNGPOOL_RAISE(*ctx.provider, reason_daemon, "requested strength %u exceeds %u", strength,
                  kStrength);
    return 0;
  }
  if (!ctx.client) ctx.client = open_client(ctx, 0);
  if (!ctx.client) {
    RNGPOOL_RAISE(*ctx.provider, reason_out_of_memory, "rngpool_open_with failed");
    return 0;
  }
  ctx.state = kStateReady;
  return 1;
}

int uninstantiate(void* vctx) {
  RandContext& ctx = *context(vctx);
  close_clients(ctx);
  ctx.state = kStateUninitialised;
  return 1;
}

// ---- drawing ----

// A caller's prediction-resistance request is honoured with a handle that
// asks the daemon for fresh hwrng input on every draw.
rngpool_client* client_for(RandContext& ctx, int prediction_resistance) {
  if (!prediction_resistance || (ctx.provider->flags & RNGPOOL_PREDICTION_RESISTANCE)) {
    return ctx.client;
  }
  if (!ctx.pr_client) ctx.pr_client = open_client(ctx, RNGPOOL_PREDICTION_RESISTANCE);
  return ctx.pr_client;
}

int draw(RandContext& ctx, unsigned char* out, size_t n, int prediction_resistance) {
  if (ctx.state != kStateReady) {
    RNGPOOL_RAISE(*ctx.provider, reason_not_instantiated, "generate called in state %d",
                  ctx.state);
    return 0;
  }
  if (!ctx.provider->config_error.empty()) {
    RNGPOOL_RAISE(*ctx.provider, reason_bad_config, "%s", ctx.provider->config_error.c_str());
    return 0;
  }
  rngpool_client* client = client_for(ctx, prediction_resistance);
  if (!client) {
    RNGPOOL_RAISE(*ctx.provider, reason_out_of_memory, "rngpool_open_with failed");
    return 0;
  }
  const int code = rngpool_bytes(client, out, n);
  if (code == RNGPOOL_OK) return 1;
  OPENSSL_cleanse(out, n);
  RNGPOOL_RAISE(*ctx.provider, reason_daemon, "%s: %s", rngpool_strerror(code),
                rngpool_last_error());
  return 0;
}

int generate(void* vctx, unsigned char* out, size_t outlen, unsigned int strength,
             int prediction_resistance, const unsigned char*, size_t) {
  RandContext& ctx = *context(vctx);
  if (strength > kStrength) {
    RNGPOOL_RAISE(*ctx.provider, reason_daemon, "requested strength %u exceeds %u", strength,
                  kStrength);
    return 0;
  }
  return draw(ctx, out, outlen, prediction_resistance);
}

// Nothing to reseed here: librngpool rekeys its generator from the daemon
// by its own limits, and a prediction-resistant draw goes to the daemon.
int reseed(void* vctx, int, const unsigned char*, size_t, const unsigned char*, size_t) {
  return context(vctx)->state == kStateReady ? 1 : 0;
}

// As a parent/seed source: full-entropy bytes, entropy/8 of them at least.
size_t get_seed(void* vctx, unsigned char** pout, int entropy, size_t min_len, size_t max_len,
                int prediction_resistance, const unsigned char*, size_t) {
  RandContext& ctx = *context(vctx);
  size_t n = entropy > 0 ? (static_cast<size_t>(entropy) + 7) / 8 : 0;
  if (n < min_len) n = min_len;
  if (n == 0 || n > max_len) {
    RNGPOOL_RAISE(*ctx.provider, reason_daemon, "cannot give %d bits of seed in %zu..%zu bytes",
                  entropy, min_len, max_len);
    return 0;
  }
  auto* buffer = static_cast<unsigned char*>(OPENSSL_secure_malloc(n));
  if (!buffer) {
    RNGPOOL_RAISE(*ctx.provider, reason_out_of_memory, "%zu bytes of seed", n);
    return 0;
  }
  if (!draw(ctx, buffer, n, prediction_resistance)) {
    OPENSSL_secure_clear_free(buffer, n);
    return 0;
  }
  *pout = buffer;
  return n;
}

void clear_seed(void*, unsigned char* buffer, size_t length) {
  OPENSSL_secure_clear_free(buffer, length);
}

// ---- locking ----
// OpenSSL locks a generator shared by threads (its primary) around every
// call; the primary fails to come up unless ENABLE_LOCKING works.

int enable_locking(void* vctx) {
  RandContext& ctx = *context(vctx);
  if (!ctx.lock) ctx.lock = new (std::nothrow) std::mutex;
  return ctx.lock ? 1 : 0;
}

int lock(void* vctx) {
  RandContext& ctx = *context(vctx);
  if (ctx.lock) ctx.lock->lock();
  return 1;
}

void unlock(void* vctx) {
  RandContext& ctx = *context(vctx);
  if (ctx.lock) ctx.lock->unlock();
}

// ---- parameters ----
// state READY (else RAND_status() is 0), strength 256, max_request > 0
// (OpenSSL splits larger requests by it; 0 would fail every draw).

const OSSL_PARAM* gettable_ctx_params(void*, void*) {
  static const OSSL_PARAM params[] = {OSSL_PARAM_int(OSSL_RAND_PARAM_STATE, nullptr),
                                      OSSL_PARAM_uint(OSSL_RAND_PARAM_STRENGTH, nullptr),
                                      OSSL_PARAM_size_t(OSSL_RAND_PARAM_MAX_REQUEST, nullptr),
                                      OSSL_PARAM_END};
  return params;
}

int get_ctx_params(void* vctx, OSSL_PARAM params[]) {
  const RandContext& ctx = *context(vctx);
  OSSL_PARAM* p = OSSL_PARAM_locate(params, OSSL_RAND_PARAM_STATE);
  if (p && !OSSL_PARAM_set_int(p, ctx.state)) return 0;
  p = OSSL_PARAM_locate(params, OSSL_RAND_PARAM_STRENGTH);
  if (p && !OSSL_PARAM_set_uint(p, kStrength)) return 0;
  p = OSSL_PARAM_locate(params, OSSL_RAND_PARAM_MAX_REQUEST);
  if (p && !OSSL_PARAM_set_size_t(p, kMaxRequest)) return 0;
  return 1;
}

// The context holds no secret: drawn bytes go straight to the caller.
int verify_zeroization(void*) { return 1; }

template <typename F>
void (*fn(F* f))() {
  return reinterpret_cast<void (*)()>(f);
}

}  // namespace

const OSSL_DISPATCH rand_functions[] = {
    {OSSL_FUNC_RAND_NEWCTX, fn(newctx)},
    {OSSL_FUNC_RAND_FREECTX, fn(freectx)},
    {OSSL_FUNC_RAND_INSTANTIATE, fn(instantiate)},
    {OSSL_FUNC_RAND_UNINSTANTIATE, fn(uninstantiate)},
    {OSSL_FUNC_RAND_GENERATE, fn(generate)},
    {OSSL_FUNC_RAND_RESEED, fn(reseed)},
    {OSSL_FUNC_RAND_GET_SEED, fn(get_seed)},
    {OSSL_FUNC_RAND_CLEAR_SEED, fn(clear_seed)},
    {OSSL_FUNC_RAND_ENABLE_LOCKING, fn(enable_locking)},
    {OSSL_FUNC_RAND_LOCK, fn(lock)},
    {OSSL_FUNC_RAND_UNLOCK, fn(unlock)},
    {OSSL_FUNC_RAND_GETTABLE_CTX_PARAMS, fn(gettable_ctx_params)},
    {OSSL_FUNC_RAND_GET_CTX_PARAMS, fn(get_ctx_params)},
    {OSSL_FUNC_RAND_VERIFY_ZEROIZATION, fn(verify_zeroization)},
    {0, nullptr}};

}  // namespace rngpool::openssl
