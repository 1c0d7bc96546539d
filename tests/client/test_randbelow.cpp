// randbelow and randbits: uniformity, and that the test would catch bias.
//
// What bias looks like depends on n.  Reducing a 64-bit word x by x % n
// over-represents the 2^64 mod n smallest results by one preimage each:
//   n = 7:         2 of 2^64 preimages misplaced, invisible in any sample;
//   n = 2^63 + 1:  2^64 = 2n - 2, so every result has two preimages except
//                  the top two: also invisible.  The naive mistake that does
//                  show at this size is scaling a double, whose 53-bit
//                  mantissa makes almost every result even;
//   n = 3 * 2^62:  2^64 = n + 2^62, so results below 2^62 are twice as likely:
//                  x % n puts half the mass in the lowest third.
// So each n gets the buckets that expose the reducer that is biased there,
// and the test proves it by failing a deliberately naive reducer.
#include "sources.hpp"

#include <catch2/catch.hpp>

#include <functional>

using rngpool::Client;
using namespace rngpool::test;

namespace {

constexpr int kDraws = 100000;
constexpr std::uint64_t kTwo63Plus1 = (std::uint64_t{1} << 63) + 1;
constexpr std::uint64_t kThreeTwo62 = std::uint64_t{3} << 62;

using Reducer = std::function<std::uint64_t(std::uint64_t n)>;
using Bucket = std::function<std::size_t(std::uint64_t value)>;

Reducer library_reducer(std::uint64_t seed) {
  auto client = std::make_shared<Client>(Client::from_source(seeded_source(seed)));
  return [client](std::uint64_t n) { return client->randbelow(n); };
}

// The mistakes this test must catch.
Reducer naive_modulo(std::uint64_t seed) {
  auto engine = std::make_shared<std::mt19937_64>(seed);
  return [engine](std::uint64_t n) { return (*engine)() % n; };
}

Reducer naive_double(std::uint64_t seed) {
  auto engine = std::make_shared<std::mt19937_64>(seed);
  return [engine](std::uint64_t n) {
    const double u = static_cast<double>((*engine)()) / 18446744073709551616.0;
    return std::min(static_cast<std::uint64_t>(u * static_cast<double>(n)), n - 1);
  };
}

Reducer naive_multiply_shift(std::uint64_t seed) {  // Lemire without the rejection step
  auto engine = std::make_shared<std::mt19937_64>(seed);
  return [engine](std::uint64_t n) {
    return static_cast<std::uint64_t>((static_cast<unsigned __int128>((*engine)()) * n) >> 64);
  };
}

double statistic(const Reducer& reduce, std::uint64_t n, const Bucket& bucket,
                 const std::vector<double>& p) {
  std::vector<std::uint64_t> counts(p.size());
  for (int i = 0; i < kDraws; ++i) {
    const std::uint64_t value = reduce(n);
    REQUIRE(value < n);
    ++counts[bucket(value)];
  }
  return chi_square(counts, p);
}

}  // namespace

TEST_CASE("randbelow(7) is uniform: chi-square over 10^5 draws") {
  const auto identity = [](std::uint64_t v) { return static_cast<std::size_t>(v); };
  CHECK(statistic(library_reducer(7), 7, identity, uniform(7)) < kChi2Crit6);
}

TEST_CASE("randbelow(2^63 + 1) is uniform over halves and over parity") {
  const std::uint64_t n = kTwo63Plus1;
  const std::uint64_t half = n / 2 + 1;  // [0, half) holds 2^62 + 1 values, [half, n) 2^62
  const Bucket halves = [half](std::uint64_t v) { return std::size_t{v >= half}; };
  const std::vector<double> p_halves{static_cast<double>(half) / static_cast<double>(n),
                                     static_cast<double>(n - half) / static_cast<double>(n)};
  const Bucket parity = [](std::uint64_t v) { return static_cast<std::size_t>(v & 1); };
  // Even values: 0, 2, ..., 2^63: 2^62 + 1 of them.
  const std::vector<double> p_parity = p_halves;

  CHECK(statistic(library_reducer(11), n, halves, p_halves) < kChi2Crit1);
  CHECK(statistic(library_reducer(12), n, parity, p_parity) < kChi2Crit1);

  SECTION("the parity buckets catch a reducer that scales a double") {
    CHECK(statistic(naive_double(13), n, parity, p_parity) > kChi2Crit1);
  }
}

TEST_CASE("randbelow(3 * 2^62) is uniform where x % n is most biased") {
  const std::uint64_t n = kThreeTwo62;
  const Bucket thirds = [](std::uint64_t v) { return static_cast<std::size_t>(v >> 62); };
  const Bucket residue = [](std::uint64_t v) { return static_cast<std::size_t>(v % 3); };

  CHECK(statistic(library_reducer(21), n, thirds, uniform(3)) < kChi2Crit2);
  CHECK(statistic(library_reducer(22), n, residue, uniform(3)) < kChi2Crit2);

  SECTION("a naive x % n fails: half the mass lands in the lowest third") {
    CHECK(statistic(naive_modulo(23), n, thirds, uniform(3)) > kChi2Crit2);
  }
  SECTION("multiply-shift without rejection fails: residue 0 gets half the mass") {
    CHECK(statistic(naive_multiply_shift(24), n, residue, uniform(3)) > kChi2Crit2);
  }
}

TEST_CASE("randbelow edge cases") {
  const Client client = Client::from_source(seeded_source(31));
  CHECK_THROWS_AS(client.randbelow(0), std::invalid_argument);
  for (int i = 0; i < 100; ++i) CHECK(client.randbelow(1) == 0);
  const std::uint64_t top = client.randbelow(~std::uint64_t{0});
  CHECK(top < ~std::uint64_t{0});
}

TEST_CASE("randbelow rejects the words that would bias it (Lemire's threshold)") {
  // n = 3 * 2^62, so 2^64 mod n = 2^62: a word x is rejected when the low
  // word of x * n is below 2^62.  x = 4 gives x * n = 3 * 2^64: high word 3,
  // low word 0, rejected.  x = 1 gives high 0, low 3 * 2^62: accepted.  A
  // source replaying 4 then 1 must yield 0; a reducer without the rejection
  // step would say 3.
  std::vector<std::uint8_t> bytes(16, 0);
  bytes[0] = 4;  // little-endian words 4, 1
  bytes[8] = 1;
  const Client client = Client::from_source(replay_source(bytes));
  CHECK(client.randbelow(kThreeTwo62) == 0);
}

TEST_CASE("randbits(k) stays below 2^k and fills all k bits") {
  const Client client = Client::from_source(seeded_source(41));
  CHECK(client.randbits(0) == 0);
  CHECK_THROWS_AS(client.randbits(65), std::invalid_argument);
  for (unsigned k : {1u, 7u, 32u, 63u, 64u}) {
    std::uint64_t seen_or = 0;
    for (int i = 0; i < 200; ++i) {
      const std::uint64_t value = client.randbits(k);
      if (k < 64) CHECK(value < (std::uint64_t{1} << k));
      seen_or |= value;
    }
    CHECK(seen_or == (k == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << k) - 1));
  }
}
