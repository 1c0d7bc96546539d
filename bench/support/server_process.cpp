#include "support/server_process.hpp"

#include "support/notify_socket.hpp"

#include <chrono>
#include <stdexcept>

namespace rngpool::bench {

RunningServer RunningServer::start(const ServerCommand& command, std::optional<int> cpu,
                                   int timeout_ms)
{
  NotifySocket notify(command.notify);
  RunningServer server;
  server.socket_ = command.socket;
  const auto t0 = std::chrono::steady_clock::now();
  server.child_ = Child::spawn(command.argv, {"NOTIFY_SOCKET=" + notify.path()}, cpu);
  const bool ready = notify.wait_ready(std::chrono::milliseconds(timeout_ms),
                                       [&] { return server.child_.alive(); });
  const auto t1 = std::chrono::steady_clock::now();
  if (!ready) {
    const bool exited = !server.child_.alive();
    server.child_.stop();
    throw std::runtime_error(command.name + (exited ? " exited before READY=1" : " sent no READY=1 within " +
                                                                                   std::to_string(timeout_ms) + " ms"));
  }
  server.startup_seconds_ = std::chrono::duration<double>(t1 - t0).count();
  return server;
}

}  // namespace rngpool::bench
