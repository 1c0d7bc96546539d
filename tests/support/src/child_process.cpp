#include "child_process.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
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

}  // namespace

std::vector<std::string> child_environment(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string_view variable{*entry};
    bool systemd = false;
    for (auto name : kSystemdVariables) systemd = systemd || variable.starts_with(name);
    if (!systemd) env.emplace_back(variable);
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

int exit_code_from_wait_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                           const std::vector<std::pair<int, int>>& redirect) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  for (auto [from, to] : redirect) posix_spawn_file_actions_adddup2(&actions, from, to);
  // The child gets default signal handling even if the test runner ignores SIGPIPE.
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t all;
  sigfillset(&all);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attributes, &all);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  auto args = c_strings(argv);
  auto envp = c_strings(env);
  int error = posix_spawnp(&pid_, args[0], &actions, &attributes, args.data(), envp.data());
  posix_spawnattr_destroy(&attributes);
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0) throw std::system_error(error, std::generic_category(), "spawning " + argv[0]);
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

}  // namespace rngpool::test
