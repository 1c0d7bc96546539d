// LocalGenerator: the per-thread fast-key-erasure generator behind librngpool.
//
// Why: a daemon round trip per token made librngpool ~300x slower than
// getrandom(2) (issue 11).  So each thread keeps, per key source (socket
// path, require_hwrng) and cipher, a fast-key-erasure generator (generator/,
// the daemon's own implementation; ChaCha20, or AES-256-CTR when the client
// asks) keyed by 32 bytes from rngpoold, and
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
//  - a thread's generators are wiped when it exits, and at every reseed;
//  - the next key is asked for when half the byte budget is spent (and the
//    one after it too when that half went fast) and collected at the
//    reseed, so a reseed does not wait a round trip; until then it is in
//    the kernel's socket buffer, not in this process, and a key asked for
//    more than kAheadLifetime before the reseed is discarded for a fresh
//    one.
// Prediction-resistance requests never come here (DaemonLink sends them to
// the daemon).
#pragma once

#include "generator/stream_cipher.hpp"
#include "generator/fast_key_erasure.hpp"
#include "generator/secure_memory.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>

namespace rngpool::detail {

using SteadyClock = std::function<std::chrono::steady_clock::time_point()>;

// A key asked for ahead is used only within this time of the asking: the
// key a reseed installs left the daemon at most this long before.
inline constexpr std::chrono::nanoseconds kAheadLifetime = std::chrono::seconds(1);
// At most this many keys are on their way for one generator's reseeds.
inline constexpr std::size_t kKeysAhead = 2;

// When a key must be replaced.  `clock` null or empty: CLOCK_MONOTONIC_COARSE
// (a tick of a few milliseconds is nothing against a 60 s interval, and it
// costs no system call).
struct ReseedPolicy {
  std::uint64_t bytes = 0;            // output per key, > 0
  std::int64_t interval_ns = 0;       // age of a key, > 0
  const SteadyClock* clock = nullptr;
};

// Where a fresh key comes from: the daemon, in DaemonLink.
class KeySource {
 public:
  // A key now; throws on failure.
  virtual void fetch(std::span<std::uint8_t, core::kKeySize> key) = 0;
  // Makes sure `keys` keys are on their way for the reseeds to come, asking
  // for the missing ones now (`now` on the policy's clock), so that a reseed
  // need not wait a round trip.  Best effort: never throws.
  virtual void request_ahead(std::size_t keys, std::int64_t now) {
    (void)keys;
    (void)now;
  }
  // A key asked for ahead, at most kAheadLifetime before `now`, that arrives
  // whole and accepted; false when there is none (the caller then fetch()es:
  // a failure here is never the caller's error).
  virtual bool collect(std::int64_t now, std::span<std::uint8_t, core::kKeySize> key) {
    (void)now;
    (void)key;
    return false;
  }

 protected:
  ~KeySource() = default;
};

class LocalGenerator {
 public:
  explicit LocalGenerator(core::Cipher cipher = core::Cipher::chacha20);  // unseeded
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
  // Reseeds whose key was asked for ahead and collected (tests, benchmarks).
  std::uint64_t reseeds_ahead() const { return reseeds_ahead_; }
  // For the tests: every locked page this generator owns.
  std::span<const std::uint8_t> key_memory() const { return output_.secure_memory(); }
  std::span<const std::uint8_t> book_memory() const { return book_.bytes(); }

 private:
  struct Book;
  Book& book();
  const Book& book() const;
  bool due(std::size_t n, std::int64_t now, const ReseedPolicy& policy) const;
  void reseed(std::int64_t now, KeySource& source);
  void ask_ahead(std::size_t n, std::int64_t now, const ReseedPolicy& policy, KeySource& source);

  core::SecureBuffer book_;  // Book: seeded flag, counters, the incoming key
  core::FastKeyErasure output_;
  std::uint64_t reseeds_ = 0;  // in this process's lifetime of the object (tests)
  std::uint64_t reseeds_ahead_ = 0;
  bool usable_ = false;
};

// The calling thread's generator for the key source (socket_path,
// require_hwrng) and cipher, made on first use; `link` (a DaemonLink's
// serial, never 0) only speeds up finding it again.  Null when the thread is
// exiting (its generators are already gone) or when the generator is unusable.
LocalGenerator* thread_generator(std::uint64_t link, const std::string& socket_path, bool require_hwrng,
                                 core::Cipher cipher = core::Cipher::chacha20);
// The calling thread's generator for the key source if it has one, for tests.
const LocalGenerator* find_thread_generator(const std::string& socket_path, bool require_hwrng,
                                            core::Cipher cipher = core::Cipher::chacha20);
// Live generators in the process (all threads), for tests of thread exit.
std::size_t live_local_generators();

}  // namespace rngpool::detail
