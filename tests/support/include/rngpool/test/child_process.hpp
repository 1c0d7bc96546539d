// Spawning and reaping the processes under test: the daemon, the bench's
// bare server, shell commands.
//
// Why fork and exec by hand rather than posix_spawn: the child may have to
// be pinned to a CPU and tied to our life (PR_SET_PDEATHSIG) before exec, and
// posix_spawn can do neither.  The bench's start-up figure is "exec to
// READY=1", so pinning through taskset or a shell would add an exec to what
// is measured.  Between fork and exec only async-signal-safe calls are made:
// the parent has threads.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace rngpool::test {

// The test's environment without the variables that would make a child
// believe systemd started it, plus `extra` (KEY=VALUE), which replaces a
// variable of the same name.
std::vector<std::string> child_environment(const std::vector<std::string>& extra = {});

// Exit status, or 128 + signal number, as a shell reports it.
int exit_code_from_wait_status(int status);

// Pins the calling thread, and the threads and children it creates later,
// to one CPU.  Returns 0 or an errno value; async-signal-safe.
int pin_to_cpu(int cpu) noexcept;

// Runs `body` in a forked child of this single-threaded test process, with
// the child's stdout and stderr into a pipe: for what must happen in another
// process (a sanitizer's report that ends it, a drop of privileges).  Only
// for test binaries without threads: the child runs ordinary code.
struct ForkedRun {
  int exit_code;       // exit_code_from_wait_status()
  std::string output;  // stdout and stderr
};
ForkedRun run_forked(const std::function<int()>& body);

// A spawned process that is killed and reaped when destroyed, and sent
// SIGTERM should the thread that spawned it die first, so neither a failing
// test nor an interrupted bench leaks a daemon.
class ChildProcess {
 public:
  // `redirect` pairs are (parent fd, child fd), applied with dup2.  argv[0]
  // is looked up in PATH.  The child starts with default signal handling and
  // nothing blocked, even if we ignore SIGPIPE; on `cpu` when given.  Throws
  // std::system_error when spawning or the exec fails.
  ChildProcess(const std::vector<std::string>& argv, const std::vector<std::string>& env,
               const std::vector<std::pair<int, int>>& redirect, std::optional<int> cpu = std::nullopt);
  // Stdin from /dev/null, stdout and stderr appended to `log_path`: a
  // server whose output a failure message can quote.
  static std::unique_ptr<ChildProcess> logged(const std::vector<std::string>& argv,
                                              const std::vector<std::string>& env, const std::string& log_path,
                                              std::optional<int> cpu = std::nullopt);
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
