// Memory for key material: its own anonymous mapping, locked so it is never
// swapped (best effort: RLIMIT_MEMLOCK may refuse), excluded from core dumps
// (MADV_DONTDUMP), and wiped with OPENSSL_cleanse before it is unmapped.
//
// Why a mapping of its own rather than the heap: mlock and madvise work on
// whole pages, and a heap page is shared with unrelated objects that must not
// be locked or hidden from dumps, nor freed while locked.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace rngpool::core {

class SecureBuffer {
 public:
  // Zero-filled.  Throws std::invalid_argument for size 0 and std::bad_alloc
  // when the mapping fails.
  explicit SecureBuffer(std::size_t size);
  ~SecureBuffer();
  SecureBuffer(const SecureBuffer&) = delete;
  SecureBuffer& operator=(const SecureBuffer&) = delete;

  std::span<std::uint8_t> bytes() { return {data_, size_}; }
  std::span<const std::uint8_t> bytes() const { return {data_, size_}; }
  std::uint8_t* data() { return data_; }
  const std::uint8_t* data() const { return data_; }
  std::size_t size() const { return size_; }
  // mlock() succeeded for the whole mapping.
  bool locked() const { return locked_; }
  void wipe();  // OPENSSL_cleanse over the whole buffer

  // MADV_WIPEONFORK (Linux 4.14): a child made by any fork, clone() without
  // CLONE_VM or _Fork() finds these pages zero-filled.  False when the
  // kernel refuses, in which case the caller must not rely on it.
  bool wipe_on_fork();
  // Locks the pages again: a fork child does not inherit its parent's locks
  // (mlock(2)), so a child that puts keys here again relocks first.
  bool relock();

 private:
  std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t mapped_ = 0;
  bool locked_ = false;
};

// Zeroes `bytes` in a way the optimiser may not remove, for buffers outside
// SecureBuffer (e.g. socket chunks) and for every byte the generator
// serves: a plain memset before free or reuse may be dropped as a dead
// store.  The empty asm that takes the pointer and clobbers memory is the
// barrier Linux's memzero_explicit() uses (include/linux/string.h,
// barrier_data()); inline, so wiping a 32-byte token costs two stores
// rather than a call through OPENSSL_cleanse's function pointer.
inline void wipe(std::span<std::uint8_t> bytes) {
  if (bytes.empty()) return;
  std::memset(bytes.data(), 0, bytes.size());
  asm volatile("" : : "r"(bytes.data()) : "memory");
}

}  // namespace rngpool::core
