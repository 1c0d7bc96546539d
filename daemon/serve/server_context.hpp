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

// The EGD socket's own counters (PROTOCOL.md §13.5); its bytes and
// connections are in the totals above them too.
struct EgdStats {
  std::uint64_t connections = 0;  // accepted on the EGD socket
  std::uint64_t connections_refused = 0;  // over a connection limit or out of descriptors: closed
  std::uint64_t requests = 0;     // complete requests answered or taken (0x03)
  std::uint64_t bytes = 0;        // random bytes sent
  std::uint64_t adds_accepted = 0;  // 0x03 from root, mixed in as auxiliary input
  std::uint64_t adds_refused = 0;   // 0x03 from anyone else, dropped
  std::uint64_t bytes_added = 0;    // of the accepted adds
  // Connections closed instead of answered: EGD has no error reply.
  std::uint64_t closed_bad_command = 0;        // an unknown command byte
  std::uint64_t closed_permission = 0;         // --allow-user/--allow-group leave the client out
  std::uint64_t closed_not_ready = 0;          // not seeded within the admission wait
  std::uint64_t closed_hwrng_unavailable = 0;  // --require-hwrng and the hwrng cannot serve
};

struct ServerStats {
  SteadyClock::time_point started = SteadyClock::now();
  std::uint64_t clients_connected = 0;
  std::uint64_t connections_accepted = 0;
  std::uint64_t connections_refused = 0;  // told BUSY: a connection limit, or out of descriptors
  std::uint64_t requests_served = 0;   // GET_RANDOM, HEX, BASE64 answered OK (PROTOCOL.md §5.2)
  std::uint64_t requests_refused = 0;  // any request answered with an error
  std::uint64_t bytes_served = 0;         // random bytes handed out
  EgdStats egd;
  RequestStats requests;                  // the same, split for the metrics
};

// Which socket a connection came in on is its Frontend (request_stats.hpp):
// egd for the EGD socket (--egd-socket); binary for the main one, where the
// first byte may still make it text.

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
