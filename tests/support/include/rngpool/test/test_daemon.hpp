// The real rngpoold on a temporary socket, one per test.
#pragma once

#include "rngpool/test/fifo_feeder.hpp"
#include "rngpool/test/temp_dir.hpp"

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rngpool::test {

class ChildProcess;

enum class HwrngFeed {
  none,     // --hwrng none
  healthy,  // a FIFO fed continuously with getrandom bytes from a thread
  path,     // the caller's path (a FIFO or file the test drives)
};

struct DaemonConfig {
  HwrngFeed hwrng = HwrngFeed::healthy;
  std::string hwrng_path;         // with HwrngFeed::path
  std::vector<std::string> args;  // extra options
  std::string socket_path;        // default: <dir>/rngpool.sock
  // Non-empty: also serve EGD there (--egd-socket; with socket_activated, a
  // second socket passed under the name "egd", the main one as "rngpool").
  std::string egd_socket_path;
  // Wait until the socket answers a binary PING (10 s at most, then throw
  // with the daemon's log).
  bool wait_ready = true;
  // Extra KEY=VALUE environment entries (NOTIFY_SOCKET, JOURNAL_STREAM, ...).
  // The test's own systemd variables are never inherited.
  std::vector<std::string> env;
  // Start as `systemd-socket-activate -l <socket> rngpoold ...` without
  // --socket: the daemon takes its listening socket from LISTEN_FDS.  The
  // daemon is exec()ed on the first connection, so pid() is the daemon's.
  bool socket_activated = false;
  // More systemd-socket-activate options with socket_activated: another
  // --listen=, --fdname=.
  std::vector<std::string> activation_args;
  // A command put before the daemon that sets something up and execs the
  // rest (privileges.hpp: setpriv, prlimit), so pid() stays the daemon's.
  std::vector<std::string> wrapper;
};

class TestDaemon {
 public:
  explicit TestDaemon(DaemonConfig config = {});
  ~TestDaemon();  // SIGTERM, wait, SIGKILL after 5 s; removes the temp dir
  TestDaemon(const TestDaemon&) = delete;
  TestDaemon& operator=(const TestDaemon&) = delete;

  const std::string& socket_path() const { return socket_path_; }
  const std::filesystem::path& dir() const { return dir_.path(); }  // private temp dir
  pid_t pid() const;
  // SIGTERM, then waits (SIGKILL after 5 s); returns the exit status, or
  // 128 + signal number.  Once exited, returns the same status again.
  int stop();
  // The exit status if the daemon exits within `timeout`.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  bool running();
  std::string log() const;  // the daemon's stderr (and stdout) so far
  // Blocks until a PING is answered; throws with the log after `timeout`.
  void wait_ready(std::chrono::milliseconds timeout = std::chrono::seconds{10});

 private:
  TempDir dir_;
  std::string socket_path_;
  std::filesystem::path log_path_;
  std::unique_ptr<FifoFeeder> feeder_;
  std::unique_ptr<ChildProcess> process_;  // declared last: the daemon stops before its feeder
};

}  // namespace rngpool::test
