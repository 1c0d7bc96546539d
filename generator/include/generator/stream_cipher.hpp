// A stream cipher's keystream through OpenSSL's EVP interface: ChaCha20
// (RFC 8439), the pool's and librngpool's default, or AES-256 in counter
// mode (NIST SP 800-38A §6.5), the primitive of OpenSSL's own CTR-DRBG, for
// clients on CPUs where AES instructions make it twice as fast (the OpenSSL
// provider's default).
//
// Why a wrapper: the generators need only the keystream, and EVP's IV
// layouts are easy to get wrong.  Keeping them in one place means the RFC
// 8439 and SP 800-38A test vectors check exactly the call the generators make.
//
// The EVP context is allocated once and re-keyed in place: re-keying is cheap,
// allocating and fetching the cipher is not.  Its internals live on OpenSSL's
// heap, outside our locked memory.  Two things there could reproduce output:
//  - the key (for AES, its schedule): every re-key overwrites it in place
//    (OpenSSL's providers write the new key's words, or its schedule, over
//    the old ones), and OpenSSL cleanses it when the context is freed;
//  - a partial block: asked for n bytes with n not a multiple of the block,
//    EVP computes the whole last block into a buffer in the context and keeps
//    it there, served bytes included, until it happens to be overwritten
//    (issue 9, item 4).  So EVP is only ever asked for whole 64-byte blocks
//    (a ChaCha20 block, four AES blocks); a request's tail block is made in
//    our own locked block, its served bytes wiped at once, its unserved rest
//    kept there for the next call and wiped by start().
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "generator/secure_memory.hpp"

typedef struct evp_cipher_ctx_st EVP_CIPHER_CTX;

namespace rngpool::core {

inline constexpr std::size_t kKeySize = 32;    // RFC 8439 §2.3; AES-256, FIPS 197 §5
inline constexpr std::size_t kNonceSize = 12;  // RFC 8439 §2.3
inline constexpr std::size_t kChaChaBlock = 64; // RFC 8439 §2.3: the unit EVP is asked for
inline constexpr std::array<std::uint8_t, kNonceSize> kZeroNonce{};

enum class Cipher : std::uint8_t { chacha20, aes256_ctr };

class StreamCipher {
 public:
  // Throws std::runtime_error when libcrypto lacks the cipher.
  explicit StreamCipher(Cipher cipher = Cipher::chacha20);
  // Fetches the process's EVP ciphers now, so that a fork child never
  // fetches while another thread holds OpenSSL's locks (stream_cipher.cpp).
  static void prepare_for_fork() noexcept;
  ~StreamCipher();
  StreamCipher(const StreamCipher&) = delete;
  StreamCipher& operator=(const StreamCipher&) = delete;

  Cipher cipher() const { return cipher_; }
  // Positions the stream at block `counter` of (key, nonce): for ChaCha20 the
  // 64-byte block of RFC 8439 §2.4; for AES-256-CTR the 16-byte block whose
  // counter block is nonce || counter (big-endian), SP 800-38A §B.2.
  void start(std::span<const std::uint8_t, kKeySize> key, std::uint32_t counter = 0,
             std::span<const std::uint8_t, kNonceSize> nonce = kZeroNonce);
  // Writes the next out.size() keystream bytes; successive calls continue the
  // stream where the last one stopped, even mid-block.
  void keystream(std::span<std::uint8_t> out);
  // Our locked block (see SecureBuffer): for a generator that must survive fork.
  bool wipe_on_fork() { return block_.wipe_on_fork(); }
  bool relock() { return block_.relock(); }

 private:
  struct CtxFree {
    void operator()(EVP_CIPHER_CTX* ctx) const;
  };
  void whole_blocks(std::span<std::uint8_t> out);
  std::size_t take_spare(std::span<std::uint8_t> out);
  void make_tail(std::span<std::uint8_t> out);

  Cipher cipher_;
  std::unique_ptr<EVP_CIPHER_CTX, CtxFree> ctx_;
  SecureBuffer block_{kChaChaBlock};  // the last block made, when only partly served
  std::size_t spare_ = 0;             // its unserved bytes, at its end
};

}  // namespace rngpool::core
