#include "support/server_process.hpp"

#include "support/notify_socket.hpp"

#include <chrono>
#include <deque>
#include <fstream>
#include <stdexcept>

namespace rngpool::bench {

namespace {

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

}  // namespace

std::string RunningServer::exit_report()
{
  if (child_.alive()) return {};
  return name_ + " is gone: " + child_.how_it_ended() + log_tail(log_);
}

RunningServer RunningServer::start(const ServerCommand& command, std::optional<int> cpu,
                                   int timeout_ms)
{
  NotifySocket notify(command.notify);
  RunningServer server;
  server.socket_ = command.socket;
  server.name_ = command.name;
  server.log_ = command.log;
  const auto t0 = std::chrono::steady_clock::now();
  server.child_ = Child::spawn(command.argv, {"NOTIFY_SOCKET=" + notify.path()}, cpu, command.log);
  const bool ready = notify.wait_ready(std::chrono::milliseconds(timeout_ms),
                                       [&] { return server.child_.alive(); });
  const auto t1 = std::chrono::steady_clock::now();
  if (!ready) {
    const bool exited = !server.child_.alive();
    const std::string why = (exited ? " ended before READY=1: " + server.child_.how_it_ended()
                                    : " sent no READY=1 within " + std::to_string(timeout_ms) + " ms") +
                            log_tail(command.log);
    server.child_.stop();
    throw std::runtime_error(command.name + why);
  }
  server.startup_seconds_ = std::chrono::duration<double>(t1 - t0).count();
  return server;
}

}  // namespace rngpool::bench
