// A ChaCha20 keystream from OpenSSL's EVP interface, under a random key.
//
// The bulk baseline is "a server that generates its own ChaCha20 output as it
// streams", i.e. the daemon minus reseeding, key erasure and health tests.
// The primitive is libcrypto's, never ours.
#pragma once

#include <cstdint>
#include <span>

typedef struct evp_cipher_ctx_st EVP_CIPHER_CTX;

namespace rngpool::bench {

class Keystream {
 public:
  Keystream();  // key and nonce from getrandom(2)
  ~Keystream();
  Keystream(const Keystream&) = delete;
  Keystream& operator=(const Keystream&) = delete;

  // Overwrites `out` with the next keystream bytes (any length).
  void fill(std::span<std::uint8_t> out);

 private:
  EVP_CIPHER_CTX* ctx_;
};

}  // namespace rngpool::bench
