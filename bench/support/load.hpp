// The load generator: closed-loop GET_RANDOM clients over epoll.
//
// Closed loop because that is what a client library does: each connection
// keeps `depth` requests in flight (1 = send, wait for the reply, send again;
// more = a pipelined stream) and sends the next one as each reply completes.
// Many connections share one epoll loop per load thread, so 256 clients cost
// the generator about what the server spends on them, not 256 threads'
// wake-ups.  Every reply is checked (status OK, request id echoed, exact
// length), so a fast wrong answer can never count.
//
// Each run has a warm-up (connections established, caches and socket buffers
// warm) and then a measured window; only replies and payload bytes that
// arrive inside the window count, and a latency is kept only for requests
// sent inside it.
#pragma once

#include "rngpool/test/fd.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace rngpool::bench {

struct ConnectionGroup {
  int connections = 1;
  std::uint32_t request_size = 32;
  int depth = 1;               // requests in flight per connection
  bool record_latency = false;
};

struct LoadPlan {
  std::string socket;
  std::vector<ConnectionGroup> groups;
  int threads = 1;
  double warmup_seconds = 0.1;
  double seconds = 1.0;
};

struct GroupResult {
  std::uint64_t replies = 0;
  std::uint64_t payload_bytes = 0;
  std::vector<double> latencies_us;
};

struct LoadResult {
  double seconds = 0;
  std::vector<GroupResult> groups;  // as in LoadPlan::groups

  double replies_per_second(std::size_t group = 0) const;
  double megabytes_per_second(std::size_t group = 0) const;  // 10^6 bytes
};

LoadResult run_load(const LoadPlan& plan);

// `count` connections that have each been served one 32-byte request and
// then sit idle: the footprint case.
std::vector<test::Fd> open_idle_connections(const std::string& socket, int count);

}  // namespace rngpool::bench
