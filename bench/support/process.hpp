// Child processes under test (the daemon, the bare server) and what the
// kernel says about them.
//
// Why fork/exec by hand rather than taskset or a shell: the start-up figure
// is "exec to READY=1", so nothing else may be exec'd on the way, and pinning
// is applied in the child between fork and exec (sched_setaffinity is
// async-signal-safe, as everything on that path must be: the parent has
// threads).  Footprint and CPU figures come straight from /proc/PID.
#pragma once

#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace rngpool::bench {

class Child {
 public:
  // Starts argv[0] with `extra_env` added to ours, on `cpu` when given, its
  // stdout and stderr appended to `log_path`, so the tables on our stdout
  // stay clean and a failure can quote the log.  Throws when the exec
  // itself fails.
  static Child spawn(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env,
                     std::optional<int> cpu, const std::string& log_path);
  Child() = default;
  Child(Child&& other) noexcept;
  Child& operator=(Child&& other) noexcept;
  ~Child() { stop(); }

  pid_t pid() const { return pid_; }
  // Still running (reaps it when it has exited).
  bool alive();
  // "exit status 1", "killed by signal 11": how it ended, once alive() is false.
  const std::string& how_it_ended() const { return ended_; }
  // SIGTERM, then SIGKILL after a grace period; reaps.
  void stop();

 private:
  explicit Child(pid_t pid) : pid_(pid) {}
  void record_end(int status);

  pid_t pid_ = -1;
  std::string ended_;
};

// VmRSS of a process, in KiB.
std::uint64_t rss_kib(pid_t pid);
// CPU time of a process (all its threads), in seconds: schedstat when the
// kernel has it, else utime + stime.
double cpu_seconds(pid_t pid);
// Pins the calling thread (and the threads it creates later) to one CPU.
void pin_self(int cpu);

}  // namespace rngpool::bench
