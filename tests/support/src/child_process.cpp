#include "rngpool/test/child_process.hpp"

#include "rngpool/test/fd.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <string_view>
#include <system_error>
#include <thread>

extern char** environ;

namespace rngpool::test {

namespace {

constexpr std::array<std::string_view, 8> kSystemdVariables = {
    "NOTIFY_SOCKET=", "LISTEN_FDS=",   "LISTEN_PID=",    "LISTEN_FDNAMES=",
    "WATCHDOG_USEC=", "WATCHDOG_PID=", "JOURNAL_STREAM=", "INVOCATION_ID=",
};

std::vector<char*> c_strings(const std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  pointers.reserve(strings.size() + 1);
  for (const auto& s : strings) pointers.push_back(const_cast<char*>(s.c_str()));
  pointers.push_back(nullptr);
  return pointers;
}

// The child between fork and exec: async-signal-safe calls only.  Returns
// the errno of the step that failed; on success it does not return.
int exec_child(char* const* argv, char* const* envp, const std::vector<std::pair<int, int>>& redirect,
               std::optional<int> cpu) {
  for (auto [from, to] : redirect) {
    // dup2 onto itself keeps close-on-exec, so clear it by hand.
    if (from == to ? fcntl(from, F_SETFD, 0) != 0 : dup2(from, to) < 0) return errno;
  }
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  for (int signal = 1; signal < NSIG; ++signal) sigaction(signal, &default_action, nullptr);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0) return errno;
  if (cpu)
    if (int error = pin_to_cpu(*cpu)) return error;
  execvpe(argv[0], argv, envp);
  return errno;
}

// Whether the environment entry `variable` sets the name `entry` (KEY=VALUE) sets.
bool same_name(std::string_view variable, std::string_view entry) {
  const auto end = entry.find('=');
  return end != std::string_view::npos && variable.starts_with(entry.substr(0, end + 1));
}

}  // namespace

std::vector<std::string> child_environment(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string_view variable{*entry};
    bool dropped = false;  // systemd's, or set again by `extra` (getenv() finds the first)
    for (auto name : kSystemdVariables) dropped = dropped || variable.starts_with(name);
    for (const auto& again : extra) dropped = dropped || same_name(variable, again);
    if (!dropped) env.emplace_back(variable);
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

int exit_code_from_wait_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

int pin_to_cpu(int cpu) noexcept {
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  CPU_SET(cpu, &cpus);
  return sched_setaffinity(0, sizeof cpus, &cpus) == 0 ? 0 : errno;
}

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                           const std::vector<std::pair<int, int>>& redirect, std::optional<int> cpu) {
  // Everything the child touches is allocated before fork.
  auto args = c_strings(argv);
  auto envp = c_strings(env);
  // The child reports a failed exec through this close-on-exec pipe; a
  // successful exec closes it and we read nothing.
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) throw_errno("pipe2");
  Fd report_read(report[0]), report_write(report[1]);
  pid_ = fork();
  if (pid_ < 0) throw_errno("fork");
  if (pid_ == 0) {
    int error = exec_child(args.data(), envp.data(), redirect, cpu);
    (void)!write(report[1], &error, sizeof error);
    _exit(127);
  }
  report_write.reset();
  int error = 0;
  ssize_t n;
  do {
    n = read(report_read.get(), &error, sizeof error);
  } while (n < 0 && errno == EINTR);
  if (n > 0) {
    wait_exit(std::chrono::seconds{5});
    throw std::system_error(error, std::generic_category(), "spawning " + argv[0]);
  }
}

std::unique_ptr<ChildProcess> ChildProcess::logged(const std::vector<std::string>& argv,
                                                   const std::vector<std::string>& env, const std::string& log_path,
                                                   std::optional<int> cpu) {
  Fd log(open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  if (!log) throw_errno("open " + log_path);
  Fd null(open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!null) throw_errno("open /dev/null");
  return std::make_unique<ChildProcess>(argv, env, std::vector<std::pair<int, int>>{{null.get(), 0}, {log.get(), 1}, {log.get(), 2}},
                                        cpu);
}

ChildProcess::~ChildProcess() { terminate(SIGKILL, std::chrono::seconds{5}); }

std::optional<int> ChildProcess::wait_exit(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!exit_code_) {
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exit_code_ = exit_code_from_wait_status(status);
      break;
    }
    if (r < 0 && errno != EINTR) {
      exit_code_ = -1;  // reaped elsewhere: nothing left to wait for
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  }
  return exit_code_;
}

int ChildProcess::terminate(int signal, std::chrono::milliseconds grace) {
  if (auto code = wait_exit(std::chrono::milliseconds{0})) return *code;
  kill(pid_, signal);
  if (auto code = wait_exit(grace)) return *code;
  kill(pid_, SIGKILL);
  return wait_exit(std::chrono::seconds{30}).value_or(-1);
}

ForkedRun run_forked(const std::function<int()>& body) {
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
  std::fflush(nullptr);  // or the child would write our buffered output again
  const pid_t pid = fork();
  if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
  if (pid == 0) {
    dup2(out[1], STDOUT_FILENO);
    dup2(out[1], STDERR_FILENO);
    const int code = body();
    std::fflush(nullptr);
    _exit(code);
  }
  close(out[1]);
  std::string output;
  std::array<char, 4096> buffer{};
  for (ssize_t n; (n = read(out[0], buffer.data(), buffer.size())) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    output.append(buffer.data(), static_cast<std::size_t>(n));
  }
  close(out[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return {exit_code_from_wait_status(status), std::move(output)};
}

}  // namespace rngpool::test
