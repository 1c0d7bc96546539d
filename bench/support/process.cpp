#include "support/process.hpp"

#include "support/unix_socket.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sched.h>
#include <sys/prctl.h>
#include <sstream>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace rngpool::bench {

namespace {

std::vector<char*> c_strings(std::vector<std::string>& strings)
{
  std::vector<char*> pointers;
  for (auto& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

}  // namespace

Child Child::spawn(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env,
                   std::optional<int> cpu, const std::string& log_path)
{
  Fd log(::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  if (!log) throw_errno("open " + log_path);
  // Everything the child touches is built before fork().
  std::vector<std::string> args = argv;
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
  env.insert(env.end(), extra_env.begin(), extra_env.end());
  std::vector<char*> c_args = c_strings(args);
  std::vector<char*> c_env = c_strings(env);
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  if (cpu) CPU_SET(*cpu, &cpus);

  // The child reports a failed exec through this close-on-exec pipe; a
  // successful exec closes it and the parent reads nothing.
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) throw_errno("pipe2");
  const pid_t pid = ::fork();
  if (pid < 0) throw_errno("fork");
  if (pid == 0) {
    ::close(report[0]);
    ::dup2(log.get(), STDOUT_FILENO);
    ::dup2(log.get(), STDERR_FILENO);
    // Nothing under test may outlive an interrupted bench.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (cpu && ::sched_setaffinity(0, sizeof cpus, &cpus) != 0) {
      const int error = errno;
      (void)!::write(report[1], &error, sizeof error);
      ::_exit(127);
    }
    ::execve(c_args[0], c_args.data(), c_env.data());
    const int error = errno;
    (void)!::write(report[1], &error, sizeof error);
    ::_exit(127);
  }
  ::close(report[1]);
  int error = 0;
  ssize_t n;
  do {
    n = ::read(report[0], &error, sizeof error);
  } while (n < 0 && errno == EINTR);
  ::close(report[0]);
  Child child(pid);
  if (n > 0) {
    child.stop();
    throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(error));
  }
  return child;
}

Child::Child(Child&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), ended_(std::move(other.ended_))
{
}

Child& Child::operator=(Child&& other) noexcept
{
  if (this != &other) {
    stop();
    pid_ = std::exchange(other.pid_, -1);
    ended_ = std::move(other.ended_);
  }
  return *this;
}

void Child::record_end(int status)
{
  if (WIFSIGNALED(status)) {
    ended_ = "killed by signal " + std::to_string(WTERMSIG(status)) + " (" + ::strsignal(WTERMSIG(status)) + ")";
  } else {
    ended_ = "exit status " + std::to_string(WEXITSTATUS(status));
  }
}

bool Child::alive()
{
  if (pid_ < 0) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    record_end(status);
    pid_ = -1;
    return false;
  }
  return true;
}

void Child::stop()
{
  if (pid_ < 0) return;
  ::kill(pid_, SIGTERM);
  using namespace std::chrono_literals;
  const auto deadline = std::chrono::steady_clock::now() + 3s;
  int status = 0;
  while (::waitpid(pid_, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(10ms);
  }
  pid_ = -1;
}

std::uint64_t rss_kib(pid_t pid)
{
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6));
  }
  throw std::runtime_error("no VmRSS for pid " + std::to_string(pid));
}

namespace {

// Nanoseconds on CPU summed over the threads' schedstat: exact, where the
// clock-tick figures of /proc/PID/stat come in 10 ms steps, too coarse to
// tell an idle daemon's 0.1 % from 0.3 %.
std::optional<double> schedstat_seconds(pid_t pid)
{
  std::error_code error;
  double total = 0;
  bool any = false;
  for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", error)) {
    std::ifstream schedstat(task.path() / "schedstat");
    unsigned long long ns = 0;
    if (schedstat >> ns) {
      total += static_cast<double>(ns) / 1e9;
      any = true;
    }
  }
  return any ? std::optional<double>(total) : std::nullopt;
}

double stat_seconds(pid_t pid)
{
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  // The command name may hold spaces and parentheses; fields are counted
  // from the last ')'.  utime and stime are fields 14 and 15.
  const auto close = text.rfind(')');
  if (close == std::string::npos) throw std::runtime_error("cannot parse /proc stat");
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  unsigned long long ticks = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i >= 14) ticks += std::stoull(field);
  }
  return static_cast<double>(ticks) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

}  // namespace

double cpu_seconds(pid_t pid)
{
  if (auto seconds = schedstat_seconds(pid)) return *seconds;
  return stat_seconds(pid);
}

void pin_self(int cpu)
{
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  CPU_SET(cpu, &cpus);
  if (::sched_setaffinity(0, sizeof cpus, &cpus) != 0) throw_errno("sched_setaffinity");
}

}  // namespace rngpool::bench
