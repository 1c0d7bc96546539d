// Everything /metrics and METRICS report, copied out of the daemon at one
// instant on the io thread.
//
// The counters live where they are counted (serve/, entropy/, core/) and are
// touched on the io thread only.  The metrics side never reads them in
// place: take_snapshot() copies them -- a few hundred bytes, no allocation
// but the version string -- on the io thread, and rendering happens on the
// copy, wherever it is.  So one report is one instant (its counters agree
// with a STATUS taken at the same point between two events), and the HTTP
// thread never touches a live counter.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/health.hpp"
#include "core/pool.hpp"
#include "entropy/entropy_service.hpp"
#include "serve/server_context.hpp"

namespace rngpool::server::metrics {

// What the HTTP side counts about itself, on its own thread.
struct HttpStats {
  std::uint64_t requests = 0;               // answered, any status
  std::uint64_t connections_accepted = 0;
  std::uint64_t connections_refused = 0;    // closed at its own connection limit
  std::uint64_t requests_rejected = 0;      // malformed, too large, too slow: closed with 4xx or nothing
};

struct Snapshot {
  std::string version;
  DaemonState state = DaemonState::starting;
  core::HwrngState hwrng_state = core::HwrngState::absent;
  bool hwrng_in_key = false;
  bool key_memory_locked = false;
  core::HealthCounters health;
  core::PoolCounters pool;
  std::uint64_t hwrng_failed_attempts = 0;
  ServerStats server;
  double uptime_seconds = 0;
  std::optional<double> seconds_since_reseed;        // nullopt: not seeded yet
  std::optional<double> seconds_since_hwrng_reseed;  // nullopt: no hwrng byte in any key yet
  std::optional<HttpStats> http;                     // filled in by the HTTP side when it renders
};

// On the io thread only.
Snapshot take_snapshot(const ServerContext& context);

}  // namespace rngpool::server::metrics
