// choice, sample and shuffle: distinct positions, every outcome equally likely.
#include "sources.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <map>
#include <numeric>
#include <set>

using rngpool::Client;
using namespace rngpool::test;

TEST_CASE("sample returns k elements from distinct positions") {
  const Client client = Client::from_source(seeded_source(101));
  const std::vector<int> population{5, 5, 5, 1, 2, 3, 4, 6, 7, 8};  // repeated values, distinct positions
  for (std::size_t k = 0; k <= population.size(); ++k) {
    for (int round = 0; round < 50; ++round) {
      const auto positions = client.sample_positions(population.size(), k);
      REQUIRE(positions.size() == k);
      CHECK(std::set(positions.begin(), positions.end()).size() == k);
      for (auto position : positions) CHECK(position < population.size());
    }
  }
  auto all = client.sample(population, population.size());
  std::sort(all.begin(), all.end());
  auto sorted = population;
  std::sort(sorted.begin(), sorted.end());
  CHECK(all == sorted);
  CHECK_THROWS_AS(client.sample(population, population.size() + 1), std::invalid_argument);
}

TEST_CASE("sample of 5 from 10^12 positions needs no 10^12-entry table") {
  const Client client = Client::from_source(seeded_source(102));
  const auto positions = client.sample_positions(std::size_t{1000000000000}, 5);
  CHECK(std::set(positions.begin(), positions.end()).size() == 5);
}

TEST_CASE("sample(range(4), 2) is uniform over the 12 ordered pairs") {
  const Client client = Client::from_source(seeded_source(103));
  const std::array<int, 4> population{0, 1, 2, 3};
  std::vector<std::uint64_t> counts(16);
  for (int i = 0; i < 100000; ++i) {
    const auto pair = client.sample(population, 2);
    ++counts[static_cast<std::size_t>(pair[0] * 4 + pair[1])];
  }
  std::vector<std::uint64_t> observed;
  for (int a = 0; a < 4; ++a) {
    CHECK(counts[static_cast<std::size_t>(a * 5)] == 0);  // never the same position twice
    for (int b = 0; b < 4; ++b) {
      if (a != b) observed.push_back(counts[static_cast<std::size_t>(a * 4 + b)]);
    }
  }
  CHECK(chi_square(observed, uniform(12)) < kChi2Crit11);
}

TEST_CASE("shuffle of 3 elements is uniform over the 6 permutations") {
  const Client client = Client::from_source(seeded_source(104));
  std::map<std::array<char, 3>, std::uint64_t> counts;
  for (int i = 0; i < 100000; ++i) {
    std::array<char, 3> items{'a', 'b', 'c'};
    client.shuffle(items);
    ++counts[items];
  }
  REQUIRE(counts.size() == 6);
  std::vector<std::uint64_t> observed;
  for (const auto& [permutation, count] : counts) observed.push_back(count);
  CHECK(chi_square(observed, uniform(6)) < kChi2Crit5);
}

TEST_CASE("the shuffle test catches the classic naive shuffle") {
  // Swapping each position with a uniform j in [0, n) (not [0, i]) gives
  // 27 equally likely paths onto 6 permutations: not uniform.
  std::mt19937_64 engine(105);
  std::map<std::array<char, 3>, std::uint64_t> counts;
  for (int i = 0; i < 100000; ++i) {
    std::array<char, 3> items{'a', 'b', 'c'};
    for (std::size_t k = 0; k < 3; ++k) std::swap(items[k], items[engine() % 3]);
    ++counts[items];
  }
  std::vector<std::uint64_t> observed;
  for (const auto& [permutation, count] : counts) observed.push_back(count);
  CHECK(chi_square(observed, uniform(6)) > kChi2Crit5);
}

TEST_CASE("shuffle keeps the elements and handles tiny ranges") {
  const Client client = Client::from_source(seeded_source(106));
  std::vector<int> empty;
  client.shuffle(empty);
  std::vector<int> one{42};
  client.shuffle(one);
  CHECK(one == std::vector<int>{42});
  std::vector<int> many(1000);
  std::iota(many.begin(), many.end(), 0);
  client.shuffle(many);
  CHECK(std::set(many.begin(), many.end()).size() == 1000);
  CHECK(!std::is_sorted(many.begin(), many.end()));
}

TEST_CASE("choice picks every element and refuses an empty range") {
  const Client client = Client::from_source(seeded_source(107));
  const std::string letters = "xyz";
  std::set<char> seen;
  for (int i = 0; i < 200; ++i) seen.insert(client.choice(letters));
  CHECK(seen == std::set<char>{'x', 'y', 'z'});
  CHECK_THROWS_AS(client.choice(std::string{}), std::invalid_argument);
  std::vector<int> values{1, 2};
  client.choice(values) = 9;  // a reference into the range, as Python's seq[i]
  CHECK((values[0] == 9 || values[1] == 9));
}
