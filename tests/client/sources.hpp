// Deterministic byte sources and the chi-square test, for the client's unit tests.
#pragma once

#include "rngpool/client.hpp"

#include <algorithm>
#include <cstring>
#include <random>
#include <vector>

namespace rngpool::test {

// A seeded, reproducible stream (not a secure one: tests only need it to be
// statistically good and the same on every run).
inline ByteSource seeded_source(std::uint64_t seed) {
  auto engine = std::make_shared<std::mt19937_64>(seed);
  return [engine](std::span<std::uint8_t> out, RequestFlags) {
    for (std::size_t i = 0; i < out.size(); i += 8) {
      const std::uint64_t word = (*engine)();
      std::memcpy(out.data() + i, &word, std::min<std::size_t>(8, out.size() - i));
    }
  };
}

// Replays `bytes` cyclically.
inline ByteSource replay_source(std::vector<std::uint8_t> bytes) {
  auto state = std::make_shared<std::pair<std::vector<std::uint8_t>, std::size_t>>(std::move(bytes), 0);
  return [state](std::span<std::uint8_t> out, RequestFlags) {
    for (auto& byte : out) {
      byte = state->first[state->second];
      state->second = (state->second + 1) % state->first.size();
    }
  };
}

// Pearson's statistic for observed counts against expected probabilities.
inline double chi_square(const std::vector<std::uint64_t>& observed, const std::vector<double>& p) {
  std::uint64_t total = 0;
  for (auto count : observed) total += count;
  double statistic = 0;
  for (std::size_t i = 0; i < observed.size(); ++i) {
    const double expected = p[i] * static_cast<double>(total);
    const double difference = static_cast<double>(observed[i]) - expected;
    statistic += difference * difference / expected;
  }
  return statistic;
}

inline std::vector<double> uniform(std::size_t buckets) {
  return std::vector<double>(buckets, 1.0 / static_cast<double>(buckets));
}

// Critical values of chi-square at significance 1e-6, by degrees of freedom
// (computed with the regularized incomplete gamma function): a correct
// generator exceeds them with probability below one in a million.
inline constexpr double kChi2Crit1 = 23.93;
inline constexpr double kChi2Crit2 = 27.63;
inline constexpr double kChi2Crit4 = 33.38;
inline constexpr double kChi2Crit5 = 35.89;
inline constexpr double kChi2Crit6 = 38.26;
inline constexpr double kChi2Crit11 = 48.87;

}  // namespace rngpool::test
