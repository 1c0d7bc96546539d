// The receiving end of sd_notify(3): a datagram socket whose path goes into
// the child's NOTIFY_SOCKET.
//
// READY=1 is the daemon's own statement that it has its first seed and
// serves, so waiting for it (rather than polling connect) is both the
// readiness check and the start-up clock.  The bare server sends the same
// datagram, so both are started and timed by the same code.
#pragma once

#include "support/unix_socket.hpp"

#include <chrono>
#include <functional>
#include <string>

namespace rngpool::bench {

class NotifySocket {
 public:
  explicit NotifySocket(std::string path);
  ~NotifySocket();
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  const std::string& path() const { return path_; }
  // Waits for a datagram holding a "READY=1" line.  False on timeout or as
  // soon as `alive()` says the sender is gone.
  bool wait_ready(std::chrono::milliseconds timeout, const std::function<bool()>& alive);

 private:
  std::string path_;
  Fd fd_;
};

// What a server sends when it is ready (used by the bare server).
void notify_ready(const std::string& notify_path);

}  // namespace rngpool::bench
