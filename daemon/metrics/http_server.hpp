// GET /metrics over HTTP (Boost.Beast), on a thread and io_context of its own.
//
// Why its own thread: the daemon's io thread serves every random-byte
// client; a scraper that is slow, or hostile, must never make one of them
// wait.  So all HTTP work -- accepting, parsing, timeouts, rendering the
// exposition, writing -- happens here, and the io thread does one thing for
// a scrape: it runs a posted take_snapshot() (a copy of a few hundred bytes
// of counters) and hands the copy back through a future.  A snapshot at
// most kSnapshotReuse old is reused, so even a flood of scrapes costs the io
// thread at most one copy per that interval.  When the io thread does not
// answer within kSnapshotWait (it is stopping, or wedged -- the watchdog's
// business), the scrape gets 503 rather than a stale or a blocked reply.
// The thread runs at nice 10, so where it and the io thread compete for a
// CPU (a scrape flood on a small machine) the io thread wins.
//
// Hostile input is bounded like on the Unix socket: a request's header
// section (request line included) is at most kMaxHeaderBytes and
// kMaxHeaderFields fields, bodies are refused, a request must arrive whole
// within kRequestTimeout (slowloris), at most kMaxConnections are open at
// once (a newcomer displaces the oldest one still without a whole request,
// counted), and only GET /metrics and
// GET / (a page with a link) are served: 404 for other paths, 405 for other
// methods, 431 for oversized headers, 400 for the rest.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "metrics/snapshot.hpp"

namespace rngpool::server::metrics {

struct HttpLimits {
  std::size_t max_header_bytes = 8 * 1024;
  std::size_t max_header_fields = 64;
  std::chrono::milliseconds request_timeout{5000};
  std::size_t max_connections = 16;
};

// Where to listen: a listening TCP socket from systemd, or an address to bind.
struct HttpEndpoint {
  int fd = -1;          // >= 0: take this listening socket
  std::string address;  // else bind this (IPv4 or IPv6 literal) ...
  unsigned short port = 0;  // ... and port (0: any free one; the log names it)
};

class HttpServer {
 public:
  // Called on the HTTP thread; returns the io thread's snapshot, or nullopt
  // when it did not come in time.
  using SnapshotSource = std::function<std::optional<Snapshot>()>;

  // Binds (or takes the fd) at once; throws StartupError naming the address.
  HttpServer(const HttpEndpoint& endpoint, SnapshotSource source, HttpLimits limits = {});
  ~HttpServer();  // stops the thread and closes every connection
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  void start();
  // "127.0.0.1:10180", the bound address, for the log.
  const std::string& description() const { return description_; }
  // Any thread.
  HttpStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string description_;
  std::thread thread_;
};

// A snapshot from the io thread: posts take_snapshot() there and waits for it.
HttpServer::SnapshotSource snapshot_from(asio::io_context& io, const ServerContext& context);

}  // namespace rngpool::server::metrics
