// A snapshot with something in every family, for the exposition tests of
// both formats (line matching: rngpool/test/documents.hpp).
#pragma once

#include "metrics/exposition.hpp"
#include "rngpool/test/documents.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <sstream>
#include <string>

namespace rngpool::test {

inline server::metrics::Snapshot example() {
  using namespace rngpool::server;
  using rngpool::protocol::Status;
  metrics::Snapshot s;
  s.version = "1.2.3";
  s.state = DaemonState::degraded;
  s.hwrng_state = rngpool::core::HwrngState::failed_permanent;
  s.health.bytes_tested = 5000;
  s.health.bytes_used = 1000;
  s.health.intermittent_by_test = {3, 1};
  s.health.permanent_by_test = {1, 0};
  s.pool.reseeds = 7;
  s.pool.reseeds_with_hwrng = 2;
  s.server.bytes_served = 96;
  s.server.requests.count_reply(Frontend::binary, Status::ok);
  s.server.requests.count_reply(Frontend::text, Status::too_large);
  s.server.requests.count_served(32, std::chrono::microseconds(20));
  s.server.requests.count_served(64, std::chrono::seconds(2));
  s.server.requests.refused[static_cast<std::size_t>(Refusal::max_connections_per_uid)] = 4;
  s.server.clients_connected = 2;
  s.uptime_seconds = 12.5;
  s.seconds_since_reseed = 1.5;
  s.pool.auxiliary_bytes_mixed = 11;
  s.server.egd = {.connections = 3, .connections_refused = 1, .requests = 9, .bytes = 255, .adds_accepted = 2,
                  .adds_refused = 1, .bytes_added = 10, .closed_bad_command = 4, .closed_permission = 5,
                  .closed_not_ready = 6, .closed_hwrng_unavailable = 7};
  return s;
}

}  // namespace rngpool::test
