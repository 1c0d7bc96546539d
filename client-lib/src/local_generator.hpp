// LocalGenerator: the per-thread fast-key-erasure generator behind librngpool.
//
// Why: a daemon round trip per token made librngpool ~300x slower than
// getrandom(2) (issue 11).  So each thread keeps, per key source (socket
// path, require_hwrng), a ChaCha20 fast-key-erasure generator (generator/,
// the daemon's own implementation) keyed by 32 bytes from rngpoold, and
// serves small and large requests from it without a lock or a system call.
//
// What is cached, and why it is safe (README › Local generator):
//  - the current key and up to 4 KiB of unserved keystream, in locked,
//    undumpable pages; every served byte is wiped there at once, and every
//    refill overwrites the key that made it (D. J. Bernstein, "Fast-key-
//    erasure random-number generators", 2017), so nothing in memory can
//    reproduce a byte already handed out;
//  - a key is replaced by fresh daemon bytes (a reseed) before its output
//    exceeds the client's reseed_bytes or its age reseed_interval;
//  - the pages are MADV_WIPEONFORK: a child made by fork(), _Fork() or a raw
//    clone() finds them zero, so its "seeded" flag (in those pages) is false
//    and it reseeds before its first byte: it never serves a byte its parent
//    could serve, without relying on pthread_atfork;
//  - a thread's generators are wiped when it exits, and at every reseed.
// Prediction-resistance requests never come here (DaemonLink sends them to
// the daemon).
#pragma once

#include "generator/chacha20.hpp"
#include "generator/fast_key_erasure.hpp"
#include "generator/secure_memory.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <span>
#include <string>

namespace rngpool::detail {

using SteadyClock = std::function<std::chrono::steady_clock::time_point()>;

// When a key must be replaced.  `clock` null or empty: CLOCK_MONOTONIC_COARSE
// (a tick of a few milliseconds is nothing against a 60 s interval, and it
// costs no system call).
struct ReseedPolicy {
  std::uint64_t bytes = 0;            // output per key, > 0
  std::int64_t interval_ns = 0;       // age of a key, > 0
  const SteadyClock* clock = nullptr;
};

// Where a fresh key comes from: the daemon, in DaemonLink.  Throws on failure.
class KeySource {
 public:
  virtual void fetch(std::span<std::uint8_t, core::kKeySize> key) = 0;

 protected:
  ~KeySource() = default;
};

class LocalGenerator {
 public:
  LocalGenerator();   // unseeded
  ~LocalGenerator();  // wipes
  LocalGenerator(const LocalGenerator&) = delete;
  LocalGenerator& operator=(const LocalGenerator&) = delete;

  // False when the kernel refused MADV_WIPEONFORK: then this generator must
  // not be used (a fork child would repeat its parent), and callers go to
  // the daemon instead.
  bool usable() const { return usable_; }

  // Fills `out`, reseeding from `source` first whenever `policy` says the key
  // is due (or the generator is unseeded: new, wiped, or in a fork child).
  // A failed reseed throws and serves nothing.
  void generate(std::span<std::uint8_t> out, const ReseedPolicy& policy, KeySource& source);

  // Zeroes key, buffer and bookkeeping: the next generate() reseeds.
  void wipe();

  bool seeded() const;
  bool locked() const { return book_.locked() && output_.locked(); }
  std::uint64_t reseeds() const { return reseeds_; }
  // For the tests: every locked page this generator owns.
  std::span<const std::uint8_t> key_memory() const { return output_.secure_memory(); }
  std::span<const std::uint8_t> book_memory() const { return book_.bytes(); }

 private:
  struct Book;
  Book& book();
  const Book& book() const;
  bool due(std::size_t n, std::int64_t now, const ReseedPolicy& policy) const;
  void reseed(std::int64_t now, KeySource& source);

  core::SecureBuffer book_;  // Book: seeded flag, counters, the incoming key
  core::FastKeyErasure output_;
  std::uint64_t reseeds_ = 0;  // in this process's lifetime of the object (tests)
  bool usable_ = false;
};

// The calling thread's generator for the key source (socket_path,
// require_hwrng), made on first use; `link` (a DaemonLink's serial, never
// 0) only speeds up finding it again.  Null when the thread is exiting (its
// generators are already gone) or when the generator is unusable.
LocalGenerator* thread_generator(std::uint64_t link, const std::string& socket_path, bool require_hwrng);
// The calling thread's generator for the key source if it has one, for tests.
const LocalGenerator* find_thread_generator(const std::string& socket_path, bool require_hwrng);
// Live generators in the process (all threads), for tests of thread exit.
std::size_t live_local_generators();

}  // namespace rngpool::detail
