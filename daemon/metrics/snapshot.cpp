#include "metrics/snapshot.hpp"

#include <chrono>

namespace rngpool::server::metrics {

namespace {

double seconds_between(SteadyClock::time_point from, SteadyClock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

std::optional<double> age(std::optional<core::Clock::time_point> then, core::Clock::time_point now) {
  return then ? std::optional(seconds_between(*then, now)) : std::nullopt;
}

}  // namespace

Snapshot take_snapshot(const ServerContext& context) {
  const EntropyService& entropy = context.entropy;
  const auto now = SteadyClock::now();
  Snapshot s;
  s.version = RNGPOOL_VERSION;
  s.state = entropy.state();
  s.hwrng_state = entropy.hwrng_state();
  // As STATUS says it: the key a GET_RANDOM is served from holds hwrng input.
  s.hwrng_in_key = entropy.pool().seeded() && entropy.pool().hwrng_in_key();
  s.key_memory_locked = entropy.pool().key_memory_locked();
  s.health = entropy.health().counters();
  s.pool = entropy.pool().counters();
  s.hwrng_failed_attempts = entropy.hwrng_failed_attempts();
  s.server = context.stats;
  s.uptime_seconds = seconds_between(context.stats.started, now);
  s.seconds_since_reseed = age(entropy.pool().last_reseed(), now);
  s.seconds_since_hwrng_reseed = age(entropy.pool().last_hwrng_reseed(), now);
  return s;
}

}  // namespace rngpool::server::metrics
