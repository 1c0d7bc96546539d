// ChaCha20 keystream (RFC 8439) through OpenSSL's EVP interface.
//
// Why a wrapper: the pool needs only the keystream, and EVP's IV layout is
// easy to get wrong (a 4-byte little-endian block counter, then the 12-byte
// nonce).  Keeping that in one place means the RFC 8439 test vector checks
// exactly the call the pool makes.
//
// The EVP context is allocated once and re-keyed in place: re-keying is cheap,
// allocating and fetching the cipher is not.  Its internals live on OpenSSL's
// heap, outside our locked memory.  Two things there could reproduce output:
//  - the key: every re-key overwrites it in place (OpenSSL's provider copies
//    the new key's words over the old ones), and OpenSSL cleanses it when the
//    context is freed;
//  - a partial block: asked for n bytes with n % 64 != 0, EVP computes the
//    whole last block into a buffer in the context and keeps it there, served
//    bytes included, until it happens to be overwritten (issue 9, item 4).
//    So EVP is only ever asked for whole blocks; a request's tail block is made
//    in our own locked block, its served bytes wiped at once, its unserved
//    rest kept there for the next call and wiped by start().
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "generator/secure_memory.hpp"

typedef struct evp_cipher_ctx_st EVP_CIPHER_CTX;

namespace rngpool::core {

inline constexpr std::size_t kKeySize = 32;    // RFC 8439 §2.3
inline constexpr std::size_t kNonceSize = 12;  // RFC 8439 §2.3
inline constexpr std::size_t kChaChaBlock = 64; // RFC 8439 §2.3
inline constexpr std::array<std::uint8_t, kNonceSize> kZeroNonce{};

class ChaCha20 {
 public:
  ChaCha20();  // throws std::runtime_error when libcrypto has no ChaCha20
  // Fetches the process's one EVP cipher now, so that a fork child never
  // fetches while another thread holds OpenSSL's locks (chacha20.cpp).
  static void prepare_for_fork() noexcept;
  ~ChaCha20();
  ChaCha20(const ChaCha20&) = delete;
  ChaCha20& operator=(const ChaCha20&) = delete;

  // Positions the stream at block `counter` of (key, nonce), RFC 8439 §2.4.
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

  std::unique_ptr<EVP_CIPHER_CTX, CtxFree> ctx_;
  SecureBuffer block_{kChaChaBlock};  // the last block made, when only partly served
  std::size_t spare_ = 0;             // its unserved bytes, at its end
};

}  // namespace rngpool::core
