// The output pool: ChaCha20 with fast key erasure, seeded from getrandom(2)
// and health-tested hwrng bytes.
//
// Why fast key erasure (Bernstein, "Fast-key-erasure random-number
// generators", 2017): every refill's first 32 keystream bytes replace the key
// at once, so a memory snapshot taken later cannot reproduce anything already
// handed out.  Bytes handed out are wiped from our buffers and never handed
// out again (fast_key_erasure.hpp).
//
// Why two inputs: getrandom(2) is always there and already good; the hwrng
// adds an independent physical source, so neither alone has to be trusted.
// Health-passed hwrng bytes are absorbed into a BLAKE2b state (the input
// pool, input_pool.hpp); each reseed derives the next key as
//   BLAKE2b-256(label, old key, 32 bytes of getrandom, presence byte,
//               [hwrng digest], [auxiliary digest], counter)
// with the label as BLAKE2b key (blake2b.hpp); bit 0 of the presence byte
// says the hwrng digest follows (hwrng bytes were pending), bit 1 the
// auxiliary one.
//
// Auxiliary input (issue 13 §2: EGD's add-entropy from root) is hashed into
// its own input pool and mixed in the same way, but it is nobody's health-
// tested hwrng: it never sets hwrng_in_key(), never counts as a reseed with
// hwrng, and credits no entropy.  Mixing cannot weaken the key (the old key
// is hashed forward), so accepting it costs nothing even if it is worthless.
//
// Pure code: the system entropy call and the clock come from the caller.
// Not thread-safe: the daemon uses it from its one I/O thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <memory>
#include <span>

#include "generator/stream_cipher.hpp"  // kKeySize

namespace rngpool::core {

using Clock = std::chrono::steady_clock;
// Fills the span with bytes from the kernel RNG (getrandom(2), flags 0, in
// the daemon); a deterministic fake in tests.
using SystemEntropy = std::function<void(std::span<std::uint8_t>)>;

inline constexpr std::size_t kMaxGenerate = 64 * 1024;  // one generate() call at most

// A zero interval or budget makes every generate() reseed first: prediction
// resistance on every call, at the price of a getrandom(2) each time.
struct PoolConfig {
  std::chrono::seconds reseed_interval{60};
  std::uint64_t reseed_bytes = std::uint64_t{64} << 20;  // byte budget between reseeds
};

struct PoolCounters {
  std::uint64_t reseeds = 0;
  std::uint64_t reseeds_with_hwrng = 0;
  std::uint64_t bytes_generated = 0;  // since construction
  std::uint64_t hwrng_bytes_mixed = 0;
  std::uint64_t auxiliary_bytes_mixed = 0;
};

class Pool {
 public:
  Pool(PoolConfig config, SystemEntropy system_entropy);
  ~Pool();  // wipes all key material
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // Absorbs health-passed hwrng bytes into the input pool.
  void add_hwrng(std::span<const std::uint8_t> bytes);
  // Bytes absorbed since the last reseed.
  std::size_t hwrng_pending() const;
  // Absorbs auxiliary input, mixed in at the next reseed; never hwrng.
  void add_auxiliary(std::span<const std::uint8_t> bytes);
  std::size_t auxiliary_pending() const;

  // Derives a new key now (first seed, timer, budget, prediction resistance)
  // and discards buffered output.  Throws whatever SystemEntropy throws,
  // leaving the pool as it was.
  void reseed(Clock::time_point now);
  bool seeded() const;
  // Not yet seeded, the interval has passed, or the byte budget is spent.
  bool reseed_due(Clock::time_point now) const;
  // A new interval at run time (the daemon's reload); reseed_due() measures
  // it from the last reseed.
  void set_reseed_interval(std::chrono::seconds interval);
  // Some reseed so far has mixed in hwrng bytes; the key chains forward, so
  // that input stays in every later key.
  bool hwrng_in_key() const;
  // When the last reseed happened, and the last one that mixed in hwrng
  // bytes; nullopt before the first (monitoring: how fresh the key is).
  std::optional<Clock::time_point> last_reseed() const;
  std::optional<Clock::time_point> last_hwrng_reseed() const;

  // Fills `out` (at most kMaxGenerate bytes; throws std::length_error above)
  // with fresh output.  Reseeds first when due.  Throws std::logic_error
  // before the first seed: only reseed() seeds.
  void generate(std::span<std::uint8_t> out, Clock::time_point now);

  const PoolCounters& counters() const;
  // Key storage is mlock()ed (false when RLIMIT_MEMLOCK refused it).
  bool key_memory_locked() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace rngpool::core
