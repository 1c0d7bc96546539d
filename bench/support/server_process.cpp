#include "support/server_process.hpp"

#include "rngpool/test/notify_socket.hpp"

#include <chrono>
#include <csignal>
#include <cstring>
#include <deque>
#include <fstream>
#include <stdexcept>

namespace rngpool::bench {

namespace {

using namespace std::chrono_literals;

// The last lines of a server's log, quoted in a failure message.
std::string log_tail(const std::string& path)
{
  std::ifstream log(path);
  std::deque<std::string> lines;
  for (std::string line; std::getline(log, line);) {
    lines.push_back(line);
    if (lines.size() > 5) lines.pop_front();
  }
  std::string tail;
  for (const auto& line : lines) tail += "\n    " + line;
  return tail.empty() ? tail : "; its log ends:" + tail;
}

// "exit status 1", "killed by signal 11 (Segmentation fault)", from the
// harness's shell-style code (128 + signal number when killed).
std::string how_it_ended(int code)
{
  if (code > 128 && code < 128 + NSIG) {
    return "killed by signal " + std::to_string(code - 128) + " (" + ::strsignal(code - 128) + ")";
  }
  return "exit status " + std::to_string(code);
}

}  // namespace

void RunningServer::stop()
{
  if (child_) child_->terminate(SIGTERM, 3s);
}

std::string RunningServer::exit_report()
{
  const auto code = child_->wait_exit(0ms);
  if (!code) return {};
  return name_ + " is gone: " + how_it_ended(*code) + log_tail(log_);
}

RunningServer RunningServer::start(const ServerCommand& command, std::optional<int> cpu, int timeout_ms)
{
  test::NotifySocket notify(command.notify);
  RunningServer server;
  server.socket_ = command.socket;
  server.name_ = command.name;
  server.log_ = command.log;
  const auto t0 = std::chrono::steady_clock::now();
  server.child_ = test::ChildProcess::logged(command.argv, test::child_environment({notify.environment()}),
                                             command.log, cpu);
  // Short slices, so a server that died is noticed at once.
  const auto deadline = t0 + std::chrono::milliseconds(timeout_ms);
  std::optional<int> exited;
  bool ready = false;
  while (!ready && !(exited = server.child_->wait_exit(0ms)) && std::chrono::steady_clock::now() < deadline) {
    ready = notify.wait_for("READY=1", 20ms).has_value();
  }
  const auto t1 = std::chrono::steady_clock::now();
  if (!ready) {
    const std::string why = (exited ? " ended before READY=1: " + how_it_ended(*exited)
                                    : " sent no READY=1 within " + std::to_string(timeout_ms) + " ms") +
                            log_tail(command.log);
    throw std::runtime_error(command.name + why);
  }
  server.startup_seconds_ = std::chrono::duration<double>(t1 - t0).count();
  return server;
}

}  // namespace rngpool::bench
