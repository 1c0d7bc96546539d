// The input pool: health-passed hwrng bytes, absorbed into a BLAKE2b-256
// state until the next reseed drains it.  A second instance with its own
// label holds auxiliary input (pool.hpp), so the two never mix unlabelled.
//
// Why a hash and not a buffer: the hwrng may deliver any amount between two
// reseeds, and a hash keeps memory constant while keeping up to 256 bits of
// whatever entropy those bytes carry, which is all one 256-bit key can hold.
// The state sits on OpenSSL's heap (see blake2b.hpp), not in locked memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/blake2b.hpp"

namespace rngpool::core {

class InputPool {
 public:
  // `label` keys the hash: "rngpool v1 input pool" for the hwrng.
  explicit InputPool(const char* label = "rngpool v1 input pool");

  void absorb(std::span<const std::uint8_t> bytes);
  // Bytes absorbed since the last drain.
  std::size_t pending() const { return pending_; }
  // Writes the digest of everything absorbed since the last drain, then
  // starts an empty pool.
  void drain(std::span<std::uint8_t, kBlake2b256Size> digest);

 private:
  Blake2b256 hash_;
  std::size_t pending_ = 0;
};

}  // namespace rngpool::core
