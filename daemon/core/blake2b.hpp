// BLAKE2b-256 (RFC 7693) through OpenSSL's EVP_MAC "BLAKE2BMAC".
//
// Why the MAC interface: in OpenSSL 3.0 the BLAKE2B-512 digest ignores a
// requested output size, and truncating BLAKE2b-512 is not BLAKE2b-256 (the
// output length is part of the parameter block).  BLAKE2BMAC with "size" 32
// is a true BLAKE2b-256; it needs a key of 1..64 bytes, and we use that key
// slot for a public domain label, so every use of the hash is separated from
// every other by construction (RFC 7693 §2.5: the key block is hashed first).
//
// The hash state lives on OpenSSL's heap, outside our locked memory.
// OpenSSL cleanses the BLAKE2b state at every finish and the key on free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

typedef struct evp_mac_ctx_st EVP_MAC_CTX;

namespace rngpool::core {

inline constexpr std::size_t kBlake2b256Size = 32;

class Blake2b256 {
 public:
  // `label`: 1..64 bytes, the BLAKE2b key.  Throws std::invalid_argument
  // outside that range, std::runtime_error when libcrypto lacks BLAKE2BMAC.
  explicit Blake2b256(std::string_view label);
  ~Blake2b256();
  Blake2b256(const Blake2b256&) = delete;
  Blake2b256& operator=(const Blake2b256&) = delete;

  void update(std::span<const std::uint8_t> bytes);
  // Writes the digest and starts a new hash under the same label.
  void finish(std::span<std::uint8_t, kBlake2b256Size> digest);

 private:
  void init(std::span<const std::byte> key);
  struct CtxFree {
    void operator()(EVP_MAC_CTX* ctx) const;
  };
  std::unique_ptr<EVP_MAC_CTX, CtxFree> ctx_;
};

}  // namespace rngpool::core
