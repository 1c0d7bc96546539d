// BLAKE2b-256 through EVP_MAC.
#include "core/blake2b.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <stdexcept>
#include <string>

namespace rngpool::core {

namespace {

[[noreturn]] void fail(const char* what) { throw std::runtime_error(std::string("EVP BLAKE2BMAC: ") + what); }

constexpr std::size_t kMaxLabel = 64;  // RFC 7693 §2.1: key of at most 64 bytes

}  // namespace

void Blake2b256::CtxFree::operator()(EVP_MAC_CTX* ctx) const { EVP_MAC_CTX_free(ctx); }

// ---------------------------------------------------------------------------
// Keying with the label
//
// The label is given once; later restarts pass no key, and OpenSSL reuses the
// one it holds.  The output size goes in with every init, so a restart can
// never fall back to the 64-byte default.
// ---------------------------------------------------------------------------

Blake2b256::Blake2b256(std::string_view label) {
  if (label.empty() || label.size() > kMaxLabel) {
    throw std::invalid_argument("BLAKE2b label must be 1..64 bytes");
  }
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, OSSL_MAC_NAME_BLAKE2BMAC, nullptr);
  if (mac == nullptr) {
    fail("not available in libcrypto");
  }
  ctx_.reset(EVP_MAC_CTX_new(mac));  // holds its own reference to mac
  EVP_MAC_free(mac);
  if (!ctx_) {
    fail("cannot allocate a context");
  }
  init(std::as_bytes(std::span(label.data(), label.size())));
}

Blake2b256::~Blake2b256() = default;

// An empty key means "keep the label already set".
void Blake2b256::init(std::span<const std::byte> key) {
  std::size_t size = kBlake2b256Size;
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size), OSSL_PARAM_construct_end()};
  const auto* raw = reinterpret_cast<const unsigned char*>(key.data());
  if (EVP_MAC_init(ctx_.get(), key.empty() ? nullptr : raw, key.size(), params) != 1) {
    fail("cannot initialise");
  }
}

// ---------------------------------------------------------------------------
// Hashing
// ---------------------------------------------------------------------------

void Blake2b256::update(std::span<const std::uint8_t> bytes) {
  if (EVP_MAC_update(ctx_.get(), bytes.data(), bytes.size()) != 1) {
    fail("update failed");
  }
}

void Blake2b256::finish(std::span<std::uint8_t, kBlake2b256Size> digest) {
  std::size_t written = 0;
  if (EVP_MAC_final(ctx_.get(), digest.data(), &written, digest.size()) != 1 || written != digest.size()) {
    fail("final failed");
  }
  init({});
}

}  // namespace rngpool::core
