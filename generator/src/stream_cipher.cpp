// ChaCha20 and AES-256-CTR keystreams through EVP.
#include "generator/stream_cipher.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <stdexcept>
#include <string>

namespace rngpool::core {

// ---------------------------------------------------------------------------
// Setting up the context
//
// The cipher is fetched explicitly, and once per process: EVP_EncryptInit
// with the legacy EVP_chacha20() handle would repeat an implicit provider
// fetch on every re-key.  And a fetch takes OpenSSL's locks (the first one
// also runs its initialisation), which OpenSSL 3 does not hold across
// fork(): a child whose first generator fetched while another thread of the
// parent was inside OpenSSL waited forever (seen in
// test_client_process.cpp's fork churn).  So the fetched cipher is kept for
// the process's life, and prepare_for_fork() -- librngpool's atfork prepare
// handler -- makes sure the parent has fetched it before any child exists.
// ---------------------------------------------------------------------------

namespace {

[[noreturn]] void fail(const char* what) { throw std::runtime_error(std::string("EVP stream cipher: ") + what); }

const char* evp_name(Cipher cipher) { return cipher == Cipher::aes256_ctr ? "AES-256-CTR" : "ChaCha20"; }

const EVP_CIPHER* fetched(Cipher cipher) noexcept {
  static EVP_CIPHER* const chacha20 = EVP_CIPHER_fetch(nullptr, evp_name(Cipher::chacha20), nullptr);
  static EVP_CIPHER* const aes256_ctr = EVP_CIPHER_fetch(nullptr, evp_name(Cipher::aes256_ctr), nullptr);
  return cipher == Cipher::aes256_ctr ? aes256_ctr : chacha20;
}

}  // namespace

void StreamCipher::prepare_for_fork() noexcept { (void)fetched(Cipher::chacha20); }

void StreamCipher::CtxFree::operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }

StreamCipher::StreamCipher(Cipher cipher) : cipher_(cipher), ctx_(EVP_CIPHER_CTX_new()) {
  if (!ctx_) {
    fail("cannot allocate a context");
  }
  const EVP_CIPHER* evp = fetched(cipher);
  if (evp == nullptr) {
    fail(cipher == Cipher::aes256_ctr ? "AES-256-CTR not in libcrypto" : "ChaCha20 not in libcrypto");
  }
  if (EVP_EncryptInit_ex2(ctx_.get(), evp, nullptr, nullptr, nullptr) != 1) {
    fail("cannot initialise");
  }
}

StreamCipher::~StreamCipher() = default;

// ---------------------------------------------------------------------------
// Keying
//
// EVP's 16-byte "IV" for ChaCha20 is the RFC 8439 §2.3 state words 12..15:
// the 32-bit block counter in little-endian order, then the 96-bit nonce.
// For AES-256-CTR it is the first counter block, SP 800-38A §6.5: here the
// nonce, then the 32-bit block counter in big-endian order (EVP increments
// the whole block as one big-endian number, §B.1; a generator's key makes
// far fewer than 2^32 blocks, so the nonce part never changes).
// ---------------------------------------------------------------------------

namespace {

std::array<std::uint8_t, 16> evp_iv(Cipher cipher, std::uint32_t counter,
                                    std::span<const std::uint8_t, kNonceSize> nonce) {
  std::array<std::uint8_t, 16> iv{};
  if (cipher == Cipher::aes256_ctr) {
    std::copy(nonce.begin(), nonce.end(), iv.begin());
    for (std::size_t i = 0; i < 4; ++i) {
      iv[kNonceSize + i] = static_cast<std::uint8_t>(counter >> (24 - 8 * i));
    }
    return iv;
  }
  for (std::size_t i = 0; i < 4; ++i) {
    iv[i] = static_cast<std::uint8_t>(counter >> (8 * i));
  }
  std::copy(nonce.begin(), nonce.end(), iv.begin() + 4);
  return iv;
}

}  // namespace

void StreamCipher::start(std::span<const std::uint8_t, kKeySize> key, std::uint32_t counter,
                         std::span<const std::uint8_t, kNonceSize> nonce) {
  const auto iv = evp_iv(cipher_, counter, nonce);
  block_.wipe();
  spare_ = 0;
  if (EVP_EncryptInit_ex2(ctx_.get(), nullptr, key.data(), iv.data(), nullptr) != 1) {
    fail("cannot set key");
  }
}

// ---------------------------------------------------------------------------
// Keystream
//
// EVP has no keystream-only call, so we encrypt zeros.  The zeros come from a
// small read-only block reused chunk by chunk: it stays in L1/L2, and the
// caller's buffer never needs a memset first.
//
// EVP is asked for whole blocks only, so it never keeps a partial block of
// keystream in its context (see stream_cipher.hpp).  A call is served as: the
// unserved rest of the previous call's tail block, then whole blocks straight
// into the caller's span, then a tail made in block_.
// ---------------------------------------------------------------------------

namespace {

constexpr std::size_t kZeroChunk = 16 * 1024;
alignas(64) constexpr std::uint8_t kZeros[kZeroChunk] = {};

}  // namespace

void StreamCipher::whole_blocks(std::span<std::uint8_t> out) {
  while (!out.empty()) {
    const std::size_t n = std::min(out.size(), kZeroChunk);
    int written = 0;
    if (EVP_EncryptUpdate(ctx_.get(), out.data(), &written, kZeros, static_cast<int>(n)) != 1 ||
        static_cast<std::size_t>(written) != n) {
      fail("keystream generation failed");
    }
    out = out.subspan(n);
  }
}

std::size_t StreamCipher::take_spare(std::span<std::uint8_t> out) {
  const std::size_t n = std::min(out.size(), spare_);
  const auto spare = block_.bytes().subspan(kChaChaBlock - spare_, n);
  std::copy(spare.begin(), spare.end(), out.begin());
  wipe(spare);
  spare_ -= n;
  return n;
}

void StreamCipher::make_tail(std::span<std::uint8_t> out) {
  whole_blocks(block_.bytes());
  const auto served = block_.bytes().first(out.size());
  std::copy(served.begin(), served.end(), out.begin());
  wipe(served);
  spare_ = kChaChaBlock - out.size();
}

void StreamCipher::keystream(std::span<std::uint8_t> out) {
  out = out.subspan(take_spare(out));
  const std::size_t whole = out.size() / kChaChaBlock * kChaChaBlock;
  whole_blocks(out.first(whole));
  if (whole < out.size()) {
    make_tail(out.subspan(whole));
  }
}

}  // namespace rngpool::core
