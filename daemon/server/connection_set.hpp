// The open connections: counted for --max-connections and STATUS, and
// drained together at shutdown.
#pragma once

#include <chrono>
#include <unordered_set>

#include "server/asio.hpp"
#include "server/server_context.hpp"

namespace rngpool::server {

class Connection;

class ConnectionSet {
 public:
  ConnectionSet(asio::any_io_executor executor, ServerStats& stats) : stats_(stats), drained_(executor) {}

  void add(Connection& connection);
  void remove(Connection& connection);
  std::size_t size() const { return live_.size(); }

  // Shutdown (issue 3 §4): every connection finishes the reply it is
  // writing and closes; idle ones close at once.  Whatever is still open
  // after `grace` is closed.
  asio::awaitable<void> drain(std::chrono::milliseconds grace);

 private:
  void for_each(void (Connection::*action)());

  std::unordered_set<Connection*> live_;
  ServerStats& stats_;
  asio::steady_timer drained_;
  bool draining_ = false;
};

}  // namespace rngpool::server
