// The open connections: counted for --max-connections, per uid for
// --max-connections-per-uid, and for STATUS, and drained together at
// shutdown.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "runtime/asio.hpp"
#include "serve/server_context.hpp"

namespace rngpool::server {

class Connection;

class ConnectionSet {
 public:
  ConnectionSet(asio::any_io_executor executor, ServerStats& stats) : stats_(stats), drained_(executor) {}

  // `uid`: the peer's, when SO_PEERCRED could be read.
  void add(Connection& connection, std::optional<uid_t> uid);
  void remove(Connection& connection, std::optional<uid_t> uid);
  std::size_t size() const { return live_.size(); }
  std::size_t of_uid(uid_t uid) const;
  // After a reload changed --allow-user/--allow-group.
  void recheck_access();

  // Shutdown (issue 3 §4): every connection finishes the reply it is
  // writing and closes; idle ones close at once.  Whatever is still open
  // after `grace` is closed.
  asio::awaitable<void> drain(std::chrono::milliseconds grace);

 private:
  void for_each(void (Connection::*action)());
  void give_back_memory();

  static constexpr std::size_t kTrimPeak = 64;

  std::unordered_set<Connection*> live_;
  std::unordered_map<uid_t, std::size_t> per_uid_;  // uids with open connections only
  std::size_t peak_ = 0;  // most connections since memory was last given back
  ServerStats& stats_;
  asio::steady_timer drained_;
  bool draining_ = false;
};

}  // namespace rngpool::server
