#include "support/keystream.hpp"

#include <algorithm>
#include <array>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdexcept>
#include <sys/random.h>

namespace rngpool::bench {

namespace {

// Encrypting zeros yields the raw keystream.
constexpr std::size_t kZeros = 64 * 1024;
const std::array<std::uint8_t, kZeros> zeros{};

}  // namespace

Keystream::Keystream() : ctx_(EVP_CIPHER_CTX_new())
{
  std::array<std::uint8_t, 32> key{};
  std::array<std::uint8_t, 16> iv{};  // 32-bit block counter + 96-bit nonce
  if (ctx_ == nullptr || ::getrandom(key.data(), key.size(), 0) != static_cast<ssize_t>(key.size()) ||
      ::getrandom(iv.data() + 4, iv.size() - 4, 0) != static_cast<ssize_t>(iv.size() - 4) ||
      EVP_EncryptInit_ex(ctx_, EVP_chacha20(), nullptr, key.data(), iv.data()) != 1) {
    EVP_CIPHER_CTX_free(ctx_);
    throw std::runtime_error("cannot set up EVP ChaCha20");
  }
  OPENSSL_cleanse(key.data(), key.size());
}

Keystream::~Keystream() { EVP_CIPHER_CTX_free(ctx_); }

void Keystream::fill(std::span<std::uint8_t> out)
{
  while (!out.empty()) {
    const std::size_t n = std::min(out.size(), kZeros);
    int produced = 0;
    if (EVP_EncryptUpdate(ctx_, out.data(), &produced, zeros.data(), static_cast<int>(n)) != 1) {
      throw std::runtime_error("EVP_EncryptUpdate failed");
    }
    out = out.subspan(n);
  }
}

}  // namespace rngpool::bench
