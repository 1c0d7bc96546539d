// Locked, undumpable, wiped memory for key material.
#include "generator/secure_memory.hpp"

#include <openssl/crypto.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <new>
#include <stdexcept>

namespace rngpool::core {

// ---------------------------------------------------------------------------
// Mapping whole pages
//
// The kernel locks and advises in pages, so the buffer gets pages of its own:
// nothing else shares them, and unmapping returns exactly what was locked.
// ---------------------------------------------------------------------------

namespace {

std::size_t round_up_to_pages(std::size_t size) {
  const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return (size + page - 1) / page * page;
}

std::uint8_t* map_pages(std::size_t length) {
  void* p = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    throw std::bad_alloc();
  }
  return static_cast<std::uint8_t*>(p);
}

}  // namespace

// ---------------------------------------------------------------------------
// Keeping keys off disk
//
// A swapped-out page or a core file would put key material on disk, where
// fast key erasure cannot reach it.  mlock is best effort: an unprivileged
// process may be over RLIMIT_MEMLOCK, and refusing to run would push users
// to worse setups; locked() lets the daemon report it.  MADV_DONTDUMP only
// fails on kernels older than 3.4, which we do not support, so it is not
// checked.
//
// mlock goes through syscall(2): the ASan runtime replaces mlock() with a
// no-op that reports success, and locked() must not lie in the sanitizer
// build either.  munmap drops the lock, so there is no munlock.
// ---------------------------------------------------------------------------

namespace {

bool lock_pages(void* address, std::size_t length) { return syscall(SYS_mlock, address, length) == 0; }

}  // namespace

SecureBuffer::SecureBuffer(std::size_t size) : size_(size) {
  if (size == 0) {
    throw std::invalid_argument("SecureBuffer of size 0");
  }
  mapped_ = round_up_to_pages(size);
  data_ = map_pages(mapped_);
  locked_ = lock_pages(data_, mapped_);
  madvise(data_, mapped_, MADV_DONTDUMP);
}

SecureBuffer::~SecureBuffer() {
  OPENSSL_cleanse(data_, mapped_);
  munmap(data_, mapped_);
}

void SecureBuffer::wipe() { OPENSSL_cleanse(data_, size_); }

bool SecureBuffer::wipe_on_fork() { return madvise(data_, mapped_, MADV_WIPEONFORK) == 0; }

bool SecureBuffer::relock() {
  locked_ = lock_pages(data_, mapped_);
  return locked_;
}

}  // namespace rngpool::core
