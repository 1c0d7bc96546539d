// rngpoold: health-tested hardware randomness over a Unix socket.
//
// main() wires the pieces together and owns the shutdown sequence; each
// piece says in its own header why it is the way it is.
#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>
#include <variant>
#include <vector>

#include "server/asio.hpp"
#include "server/connection_set.hpp"
#include "server/entropy_service.hpp"
#include "server/listener.hpp"
#include "server/log.hpp"
#include "server/options.hpp"
#include "server/process.hpp"
#include "server/systemd_glue.hpp"

namespace rngpool::server {
namespace {

using namespace std::chrono_literals;

// In-flight replies get this long after SIGTERM; systemd's own stop timeout
// (90 s by default) is far longer, so a clean exit is never cut short.
constexpr auto kShutdownGrace = 2000ms;

EntropyConfig entropy_config(const Options& options) {
  return EntropyConfig{.hwrng_path = options.hwrng_path,
                       .entropy_per_byte = options.hwrng_entropy,
                       .require_hwrng = options.require_hwrng,
                       .reseed_interval = options.reseed_interval,
                       .hwrng_retry = options.hwrng_retry};
}

ServerLimits server_limits(const Options& options) {
  return ServerLimits{.max_request = options.max_request,
                      .max_connections = options.max_connections,
                      .max_connections_per_uid = options.max_connections_per_uid,
                      .max_output_memory = options.max_output_memory,
                      .idle_timeout = options.idle_timeout};
}

// ---------------------------------------------------------------------------
// Shutdown
//
// SIGTERM/SIGINT: stop accepting, tell systemd, let every connection finish
// the reply it is writing (closing idle ones at once), then stop the
// entropy service.  Nothing calls io_context::stop(): once the last
// connection and timer are done, run() returns by itself and everything is
// destroyed in order.
// ---------------------------------------------------------------------------

asio::awaitable<void> shut_down(int signal, Listener& listener, SystemdGlue& systemd, ConnectionSet& connections,
                                EntropyService& entropy) {
  log(LogLevel::info, "received ", signal == SIGINT ? "SIGINT" : "SIGTERM", "; finishing in-flight replies");
  systemd.stopping();
  listener.stop();
  co_await connections.drain(kShutdownGrace);
  entropy.stop();
}

// One thread runs all I/O; the helper threads (hwrng reader, kernel-RNG
// waiter) only post() work to it.  So the reactor's per-socket locks can go
// (UNSAFE_IO); the scheduler, which those posts go through, stays locked.
int serve(const Options& options) {
  asio::io_context io(BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO);
  ServerStats stats;
  ChunkPool chunks(io.get_executor());
  ClientPoller poller(io.get_executor());
  EntropyService entropy(io.get_executor(), entropy_config(options));
  ServerContext context{entropy, stats, chunks, poller, server_limits(options), options.access};
  ConnectionSet connections(io.get_executor(), stats);
  Listener listener(io.get_executor(), options, context, connections);
  SystemdGlue systemd(io.get_executor(), context);
  entropy.on_change([&] { systemd.state_changed(); });

  asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](const error_code& ec, int signal) {
    if (!ec)
      asio::co_spawn(io, shut_down(signal, listener, systemd, connections, entropy), asio::detached);
  });

  log(LogLevel::info, "rngpoold ", RNGPOOL_VERSION, " listening on ", listener.description(), ", hwrng ",
      options.hwrng_path.empty() ? std::string("none") : options.hwrng_path,
      options.require_hwrng ? " (required)" : "", ", H = ", options.hwrng_entropy, " bits/byte");
  if (options.access.restricts())
    log(LogLevel::info, "only clients in --allow-user (", options.access.users.size(), " listed) or --allow-group (",
        options.access.groups.size(), " listed) may ask for more than PING");
  systemd.start();
  entropy.start();
  listener.start();
  io.run();
  // The totals stay readable after the last STATUS, and by whoever reads
  // the journal when --allow-user/--allow-group keeps them from asking.
  log(LogLevel::info, "stopped (requests: ", stats.requests_served, " served, ", stats.requests_refused, " refused)");
  return 0;
}

}  // namespace
}  // namespace rngpool::server

int main(int argc, char** argv) {
  using namespace rngpool::server;
  forbid_core_dumps();
  // A client that vanishes mid-reply must cost an EPIPE, not the daemon.
  std::signal(SIGPIPE, SIG_IGN);

  auto parsed = parse_options(std::vector<std::string>(argv + 1, argv + argc));
  if (auto* exit = std::get_if<OptionsExit>(&parsed)) {
    (exit->code == 0 ? std::cout : std::cerr) << exit->message << std::flush;
    return exit->code;
  }
  const auto& options = std::get<Options>(parsed);
  log_init(options.log_level);
  raise_fd_limit(options.max_connections);
  try {
    return serve(options);
  } catch (const StartupError& e) {
    log(LogLevel::error, e.what());
    return e.exit_code;
  }
}
