#include "server/connection_set.hpp"

#include <vector>

#include "server/connection.hpp"
#include "server/log.hpp"

namespace rngpool::server {

void ConnectionSet::add(Connection& connection) {
  live_.insert(&connection);
  stats_.clients_connected = live_.size();
}

void ConnectionSet::remove(Connection& connection) {
  live_.erase(&connection);
  stats_.clients_connected = live_.size();
  if (draining_ && live_.empty())
    drained_.cancel();
}

// Over a copy: an action may end a connection, which removes it.
void ConnectionSet::for_each(void (Connection::*action)()) {
  std::vector<Connection*> snapshot(live_.begin(), live_.end());
  for (Connection* connection : snapshot)
    if (live_.contains(connection))
      (connection->*action)();
}

asio::awaitable<void> ConnectionSet::drain(std::chrono::milliseconds grace) {
  draining_ = true;
  for_each(&Connection::drain);
  if (live_.empty())
    co_return;
  drained_.expires_after(grace);
  error_code ec;
  co_await drained_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  if (live_.empty())
    co_return;
  log(LogLevel::warning, "closing ", live_.size(), " connection(s) still busy after ", grace.count(), " ms");
  for_each(&Connection::close);
}

}  // namespace rngpool::server
