#include "serve/connection_set.hpp"

#include <malloc.h>

#include <algorithm>
#include <vector>

#include "serve/connection.hpp"
#include "runtime/log.hpp"

namespace rngpool::server {

void ConnectionSet::add(Connection& connection, std::optional<uid_t> uid) {
  live_.insert(&connection);
  peak_ = std::max(peak_, live_.size());
  if (uid)
    ++per_uid_[*uid];
  stats_.clients_connected = live_.size();
}

void ConnectionSet::remove(Connection& connection, std::optional<uid_t> uid) {
  if (live_.erase(&connection) == 0)
    return;
  if (auto it = uid ? per_uid_.find(*uid) : per_uid_.end(); it != per_uid_.end() && --it->second == 0)
    per_uid_.erase(it);
  stats_.clients_connected = live_.size();
  give_back_memory();
  if (draining_ && live_.empty())
    drained_.cancel();
}

// After a burst (issue 9 §13): the connections' own memory went back to
// malloc, which keeps freed heap pages unless asked; malloc_trim(3) returns
// them.  Only when most of a sizeable peak has left, so it runs once per
// burst, not per close.
void ConnectionSet::give_back_memory() {
  if (peak_ < kTrimPeak || live_.size() > peak_ / 4)
    return;
  ::malloc_trim(0);
  peak_ = live_.size();
}

std::size_t ConnectionSet::of_uid(uid_t uid) const {
  auto it = per_uid_.find(uid);
  return it == per_uid_.end() ? 0 : it->second;
}

// Over a copy: an action may end a connection, which removes it.
void ConnectionSet::recheck_access() { for_each(&Connection::recheck_access); }

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
