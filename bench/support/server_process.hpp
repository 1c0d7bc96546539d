// A server under test, running: the daemon or the bare baseline server.
//
// Both are started the same way (exec, optional CPU pin, NOTIFY_SOCKET) and
// judged ready by the same READY=1 datagram, so start-up and footprint
// figures of the two are comparable, and the load sections only need the
// socket path.  READY=1 is the daemon's own statement that it has its first
// seed and serves, so waiting for it (rather than polling connect) is both
// the readiness check and the start-up clock.  Spawning and the datagram
// listener are the test harness's (rngpool/test), so the bench starts a
// daemon exactly as the tests do.
#pragma once

#include "rngpool/test/child_process.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rngpool::bench {

struct ServerCommand {
  std::string name;               // "rngpoold", "bare server": for messages
  std::vector<std::string> argv;  // argv[0] is an absolute path
  std::string socket;             // where it will listen
  std::string notify;             // NOTIFY_SOCKET path for this start
  std::string log;                // its stdout and stderr go here
};

class RunningServer {
 public:
  // Execs the server and waits for READY=1; throws when it exits or does not
  // become ready within `timeout_ms`.
  static RunningServer start(const ServerCommand& command, std::optional<int> cpu,
                             int timeout_ms = 10000);
  RunningServer(RunningServer&&) = default;
  RunningServer& operator=(RunningServer&&) = default;
  ~RunningServer() { stop(); }

  const std::string& socket() const { return socket_; }
  pid_t pid() const { return child_->pid(); }
  // Seconds from just before fork to READY=1 received.
  double startup_seconds() const { return startup_seconds_; }
  // SIGTERM, then SIGKILL after a grace period.
  void stop();
  // Empty while it runs; otherwise how it ended and the end of its log,
  // for the failure message.
  std::string exit_report();

 private:
  RunningServer() = default;

  std::unique_ptr<test::ChildProcess> child_;
  std::string name_;
  std::string log_;
  std::string socket_;
  double startup_seconds_ = 0;
};

}  // namespace rngpool::bench
