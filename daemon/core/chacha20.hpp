// ChaCha20 keystream (RFC 8439) through OpenSSL's EVP interface.
//
// Why a wrapper: the pool needs only the keystream, and EVP's IV layout is
// easy to get wrong (a 4-byte little-endian block counter, then the 12-byte
// nonce).  Keeping that in one place means the RFC 8439 test vector checks
// exactly the call the pool makes.
//
// The EVP context is allocated once and re-keyed in place: re-keying is cheap,
// allocating and fetching the cipher is not.  Its internals (the expanded key,
// a partial keystream block) live on OpenSSL's heap, outside our locked
// memory; OpenSSL cleanses them when the context is freed, and every re-key
// overwrites the previous key.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

typedef struct evp_cipher_ctx_st EVP_CIPHER_CTX;

namespace rngpool::core {

inline constexpr std::size_t kKeySize = 32;    // RFC 8439 §2.3
inline constexpr std::size_t kNonceSize = 12;  // RFC 8439 §2.3
inline constexpr std::array<std::uint8_t, kNonceSize> kZeroNonce{};

class ChaCha20 {
 public:
  ChaCha20();  // throws std::runtime_error when libcrypto has no ChaCha20
  ~ChaCha20();
  ChaCha20(const ChaCha20&) = delete;
  ChaCha20& operator=(const ChaCha20&) = delete;

  // Positions the stream at block `counter` of (key, nonce), RFC 8439 §2.4.
  void start(std::span<const std::uint8_t, kKeySize> key, std::uint32_t counter = 0,
             std::span<const std::uint8_t, kNonceSize> nonce = kZeroNonce);
  // Writes the next out.size() keystream bytes; successive calls continue the
  // stream where the last one stopped, even mid-block.
  void keystream(std::span<std::uint8_t> out);

 private:
  struct CtxFree {
    void operator()(EVP_CIPHER_CTX* ctx) const;
  };
  std::unique_ptr<EVP_CIPHER_CTX, CtxFree> ctx_;
};

}  // namespace rngpool::core
