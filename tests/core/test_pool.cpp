// The pool: seeding, reseed triggers, hwrng mixing, limits, determinism.
// Time is passed in, and getrandom(2) is replaced by a deterministic fake.
#include <catch2/catch.hpp>

#include <sys/resource.h>

#include <array>
#include <set>
#include <string>
#include <vector>

#include "core/pool.hpp"
#include "test_pool_support.hpp"

using namespace std::chrono_literals;
using rngpool::core::Clock;
using rngpool::core::kMaxGenerate;
using rngpool::core::Pool;
using rngpool::core::PoolConfig;
using rngpool::test::bytes_of;
using rngpool::test::FakeEntropy;
using rngpool::test::from_hex;

namespace {

const Clock::time_point t0{};

std::vector<std::uint8_t> generate(Pool& p, std::size_t n, Clock::time_point now = t0) {
  std::vector<std::uint8_t> out(n);
  p.generate(out, now);
  return out;
}

// A pool on a fake getrandom, seeded at t0.
struct Seeded {
  explicit Seeded(std::uint8_t seed = 7, PoolConfig config = {}) : entropy(seed), pool(config, entropy.source()) {
    pool.reseed(t0);
  }
  FakeEntropy entropy;
  Pool pool;
};

}  // namespace

// ---------------------------------------------------------------------------
// First seed
// ---------------------------------------------------------------------------

TEST_CASE("Pool: no output before the first seed", "[pool]") {
  FakeEntropy entropy(7);
  Pool pool({}, entropy.source());
  CHECK_FALSE(pool.seeded());
  CHECK(pool.reseed_due(t0));
  CHECK_THROWS_AS(generate(pool, 32), std::logic_error);
  CHECK(entropy.calls() == 0);

  pool.reseed(t0);
  CHECK(pool.seeded());
  CHECK_FALSE(pool.reseed_due(t0));
  CHECK(pool.counters().reseeds == 1);
  CHECK(entropy.calls() == 1);
  CHECK(generate(pool, 32).size() == 32);
}

TEST_CASE("Pool: known answer for the first seed and an on-demand reseed", "[pool]") {
  // Computed in Python (hashlib.blake2b + cryptography's ChaCha20):
  //   k1 = BLAKE2b-256(key="rngpool v1 reseed",
  //                    0^32 || fake(7, call 0) || 00 || le64(1))
  //   output = ChaCha20(k1) keystream bytes 64..95 (0..31 are the next key)
  Seeded s;
  const auto first = generate(s.pool, 32);
  CHECK(first == from_hex("22932ea819f121770e265d583f21e5b0fb687b2107d92162660df0bb63f9cca0"));
  // k2 chains k1's successor: BLAKE2b-256(.., ChaCha20(k1)[0..32) || fake(7, call 1) || 00 || le64(2))
  s.pool.reseed(t0);
  CHECK(generate(s.pool, 32) == from_hex("a33782ee9260c39f27682806f3865f710c6437d04edf3831dee5e2fd97afa7c4"));
}

TEST_CASE("Pool: known answer with hwrng bytes in the first seed", "[pool]") {
  //   d = BLAKE2b-256(key="rngpool v1 input pool", "hwrng bytes")
  //   k1 = BLAKE2b-256(key="rngpool v1 reseed", 0^32 || fake(7, 0) || 01 || d || le64(1))
  FakeEntropy entropy(7);
  Pool pool({}, entropy.source());
  pool.add_hwrng(bytes_of("hwrng bytes"));
  pool.reseed(t0);
  CHECK(generate(pool, 32) == from_hex("980049aa85893dc5f2b3a1b363fae0c4d17b5f378d285b160bbf1809afda9b66"));
}

// Auxiliary input (EGD's add-entropy, issue 13 §2): mixed into the key in its
// own slot, never taken for the hwrng.
TEST_CASE("Pool: known answers with auxiliary input, alone and with hwrng bytes", "[pool][auxiliary]") {
  //   a = BLAKE2b-256(key="rngpool v1 auxiliary input", "auxiliary bytes")
  //   k1 = BLAKE2b-256(key="rngpool v1 reseed", 0^32 || fake(7, 0) || 02 || a || le64(1))
  //   both: .. || 03 || d || a || le64(1), d as above
  FakeEntropy entropy(7);
  Pool pool({}, entropy.source());
  pool.add_auxiliary(bytes_of("auxiliary bytes"));
  CHECK(pool.auxiliary_pending() == 15);
  pool.reseed(t0);
  CHECK(pool.auxiliary_pending() == 0);
  CHECK(generate(pool, 32) == from_hex("c876cd2fd5e892bb6fadecc67cd1022b99d299617d82c1e065eaad6b3ca33b93"));

  FakeEntropy entropy2(7);
  Pool both({}, entropy2.source());
  both.add_hwrng(bytes_of("hwrng bytes"));
  both.add_auxiliary(bytes_of("auxiliary bytes"));
  both.reseed(t0);
  CHECK(generate(both, 32) == from_hex("6298113aec8f37199bda25de4a274a4ad8df910f2f1220f60f644a6a682574bb"));
}

TEST_CASE("Pool: auxiliary input never counts as hwrng", "[pool][auxiliary]") {
  Seeded s;
  s.pool.add_auxiliary(bytes_of("from root over EGD"));
  CHECK(s.pool.hwrng_pending() == 0);
  s.pool.reseed(t0);
  CHECK_FALSE(s.pool.hwrng_in_key());
  CHECK(s.pool.counters().reseeds_with_hwrng == 0);
  CHECK(s.pool.counters().hwrng_bytes_mixed == 0);
  CHECK(s.pool.counters().auxiliary_bytes_mixed == 18);
}

// ---------------------------------------------------------------------------
// Limits
// ---------------------------------------------------------------------------

TEST_CASE("Pool: at most kMaxGenerate bytes per call", "[pool]") {
  Seeded s;
  CHECK(generate(s.pool, kMaxGenerate).size() == kMaxGenerate);
  std::vector<std::uint8_t> too_big(kMaxGenerate + 1);
  CHECK_THROWS_AS(s.pool.generate(too_big, t0), std::length_error);
  CHECK(s.pool.counters().bytes_generated == kMaxGenerate);
  CHECK(generate(s.pool, 0).empty());
}

TEST_CASE("Pool: a system entropy source is required", "[pool]") {
  CHECK_THROWS_AS(Pool({}, rngpool::core::SystemEntropy{}), std::invalid_argument);
}

// ---------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------

TEST_CASE("Pool: same entropy, same output, and different entropy, different output", "[pool]") {
  Seeded a(7), b(7), c(8);
  for (std::size_t n : {std::size_t{32}, std::size_t{4096}, std::size_t{1}, kMaxGenerate, std::size_t{100}}) {
    const auto out_a = generate(a.pool, n);
    CHECK(out_a == generate(b.pool, n));
    if (n >= 16) {
      CHECK(out_a != generate(c.pool, n));
    }
  }
}

TEST_CASE("Pool: no 16-byte block repeats across 1 MiB of mixed requests", "[pool]") {
  Seeded s;
  std::set<std::array<std::uint8_t, 16>> blocks;
  std::size_t total = 0;
  const std::size_t sizes[] = {32, 16, 4096, kMaxGenerate, 2048, 48};
  for (std::size_t i = 0; total < (std::size_t{1} << 20); ++i) {
    const auto out = generate(s.pool, sizes[i % std::size(sizes)]);
    for (std::size_t off = 0; off + 16 <= out.size(); off += 16) {
      std::array<std::uint8_t, 16> block{};
      std::copy_n(out.begin() + static_cast<std::ptrdiff_t>(off), 16, block.begin());
      blocks.insert(block);
    }
    total += out.size() / 16 * 16;
  }
  CHECK(blocks.size() == total / 16);
}

// ---------------------------------------------------------------------------
// Reseed triggers
// ---------------------------------------------------------------------------

TEST_CASE("Pool: reseeds when the interval has passed", "[pool]") {
  PoolConfig config;
  config.reseed_interval = 60s;
  Seeded a(7, config), b(7, config);
  CHECK_FALSE(a.pool.reseed_due(t0 + 59s));
  CHECK(a.pool.reseed_due(t0 + 60s));

  const auto early = generate(b.pool, 32, t0 + 59s);
  CHECK(b.pool.counters().reseeds == 1);
  const auto late = generate(a.pool, 32, t0 + 60s);
  CHECK(a.pool.counters().reseeds == 2);
  CHECK(a.entropy.calls() == 2);
  CHECK(late != early);
  // The clock restarts at the reseed.
  CHECK_FALSE(a.pool.reseed_due(t0 + 119s));
  CHECK(a.pool.reseed_due(t0 + 120s));
}

TEST_CASE("Pool: reseeds when the byte budget is spent", "[pool]") {
  PoolConfig config;
  config.reseed_bytes = 4096;
  Seeded s(7, config);
  generate(s.pool, 4095);
  CHECK_FALSE(s.pool.reseed_due(t0));
  generate(s.pool, 1);
  CHECK(s.pool.reseed_due(t0));
  CHECK(s.pool.counters().reseeds == 1);
  generate(s.pool, 1);
  CHECK(s.pool.counters().reseeds == 2);
  CHECK_FALSE(s.pool.reseed_due(t0));
}

TEST_CASE("Pool: reseeds on demand, and the next bytes come from the new key", "[pool]") {
  Seeded a, b;
  CHECK(generate(a.pool, 32) == generate(b.pool, 32));  // both have a buffer left
  a.pool.reseed(t0);
  CHECK(a.pool.counters().reseeds == 2);
  CHECK(generate(a.pool, 32) != generate(b.pool, 32));
}

TEST_CASE("Pool: a failing getrandom leaves the pool as it was", "[pool]") {
  Seeded a, b;
  a.entropy.set_failing(true);
  CHECK_THROWS_AS(a.pool.reseed(t0), std::runtime_error);
  CHECK(a.pool.counters().reseeds == 1);
  a.entropy.set_failing(false);
  CHECK(generate(a.pool, 32) == generate(b.pool, 32));
}

// ---------------------------------------------------------------------------
// The hwrng
// ---------------------------------------------------------------------------

TEST_CASE("Pool: hwrng_in_key only after a reseed that mixed hwrng bytes", "[pool]") {
  Seeded s;
  CHECK_FALSE(s.pool.hwrng_in_key());  // degraded: getrandom alone
  CHECK(generate(s.pool, 32).size() == 32);

  s.pool.add_hwrng(bytes_of("0123456789"));
  CHECK(s.pool.hwrng_pending() == 10);
  CHECK_FALSE(s.pool.hwrng_in_key());

  s.pool.reseed(t0);
  CHECK(s.pool.hwrng_in_key());
  CHECK(s.pool.hwrng_pending() == 0);
  CHECK(s.pool.counters().reseeds_with_hwrng == 1);
  CHECK(s.pool.counters().hwrng_bytes_mixed == 10);

  s.pool.reseed(t0);  // nothing pending: the earlier input stays in the key
  CHECK(s.pool.hwrng_in_key());
  CHECK(s.pool.counters().reseeds == 3);
  CHECK(s.pool.counters().reseeds_with_hwrng == 1);
}

TEST_CASE("Pool: hwrng bytes change the key", "[pool]") {
  Seeded none, a1, a2, b;
  a1.pool.add_hwrng(bytes_of("hwrng block A"));
  a2.pool.add_hwrng(bytes_of("hwrng block A"));
  b.pool.add_hwrng(bytes_of("hwrng block B"));
  for (auto* s : {&none, &a1, &a2, &b}) s->pool.reseed(t0);

  const auto out_none = generate(none.pool, 64);
  const auto out_a1 = generate(a1.pool, 64);
  CHECK(out_a1 == generate(a2.pool, 64));
  CHECK(out_a1 != generate(b.pool, 64));
  CHECK(out_a1 != out_none);
}

TEST_CASE("Pool: key memory is locked when RLIMIT_MEMLOCK allows it", "[pool]") {
  // test_secure_memory checks locked() against the kernel's view of the
  // mapping; here: the pool reports it, and works either way.
  Seeded s;
  rlimit limit{};
  REQUIRE(getrlimit(RLIMIT_MEMLOCK, &limit) == 0);
  if (limit.rlim_cur >= (rlim_t{1} << 20)) {
    CHECK(s.pool.key_memory_locked());
  } else {
    WARN("RLIMIT_MEMLOCK below 1 MiB: not checking that key memory is locked");
  }
  CHECK(generate(s.pool, 32).size() == 32);
}
