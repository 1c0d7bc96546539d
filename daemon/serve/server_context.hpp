// What every connection shares: the entropy service, the limits it enforces,
// who may ask, the counters STATUS reports, output chunks and the poller.
// One instance, owned by main(), used only on the io thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "serve/access_policy.hpp"
#include "runtime/asio.hpp"
#include "serve/client_poller.hpp"
#include "entropy/entropy_service.hpp"
#include "serve/output_buffer.hpp"
#include "serve/request_stats.hpp"

namespace rngpool::server {

struct ServerLimits {
  std::uint32_t max_request = 1u << 20;
  std::uint32_t max_connections = 1024;
  std::uint32_t max_connections_per_uid = 256;  // root is not limited
  std::uint64_t max_output_memory = 32u << 20;  // output chunks of all connections together
  std::chrono::milliseconds idle_timeout{60'000};
};

struct ServerStats {
  SteadyClock::time_point started = SteadyClock::now();
  std::uint64_t clients_connected = 0;
  std::uint64_t connections_accepted = 0;
  std::uint64_t connections_refused = 0;  // told BUSY: a connection limit, or out of descriptors
  std::uint64_t requests_served = 0;   // GET_RANDOM, HEX, BASE64 answered OK (PROTOCOL.md §5.2)
  std::uint64_t requests_refused = 0;  // any request answered with an error
  std::uint64_t bytes_served = 0;         // random bytes handed out
  RequestStats requests;                  // the same, split for the metrics
};

struct ServerContext {
  EntropyService& entropy;
  ServerStats& stats;
  ChunkPool& chunks;
  ClientPoller& poller;
  ServerLimits limits;
  AccessPolicy access;
  // The METRICS text command's body (metrics/, wired by main): serve/ does
  // not know how metrics are rendered.  Empty: METRICS is not available.
  std::function<std::string()> metrics_text;
};

}  // namespace rngpool::server
