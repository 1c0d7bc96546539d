// Spawning and reaping child processes for the harness (internal).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace rngpool::test {

// The test's environment without the variables that would make a child
// believe systemd started it, plus `extra` (KEY=VALUE).
std::vector<std::string> child_environment(const std::vector<std::string>& extra = {});

// Exit status, or 128 + signal number, as a shell reports it.
int exit_code_from_wait_status(int status);

// A spawned process that is killed and reaped when destroyed, so a failing
// test never leaks a daemon.
class ChildProcess {
 public:
  // `redirect` pairs are (parent fd, child fd), applied with dup2.  argv[0]
  // is looked up in PATH.  Throws std::system_error when spawning fails.
  ChildProcess(const std::vector<std::string>& argv, const std::vector<std::string>& env,
               const std::vector<std::pair<int, int>>& redirect);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // The exit status if the process exits within `timeout` (zero: just poll).
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  // Sends `signal`, waits up to `grace`, then SIGKILL; returns the status.
  int terminate(int signal, std::chrono::milliseconds grace);

 private:
  pid_t pid_;
  std::optional<int> exit_code_;
};

}  // namespace rngpool::test
