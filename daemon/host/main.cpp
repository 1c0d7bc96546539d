// rngpoold: health-tested hardware randomness over a Unix socket.
//
// main() wires the pieces together and owns the shutdown sequence; each
// piece says in its own header why it is the way it is.
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "runtime/asio.hpp"
#include "serve/connection_set.hpp"
#include "entropy/entropy_service.hpp"
#include "serve/listener.hpp"
#include "runtime/log.hpp"
#include "host/options.hpp"
#include "host/process.hpp"
#include "host/reload.hpp"
#include "host/systemd_glue.hpp"
#include "metrics/exposition.hpp"
#include "metrics/http_server.hpp"

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
// Listening
//
// The main socket always; the EGD socket when systemd passed one named "egd"
// or --egd-socket names a path (PROTOCOL.md §13).  systemd's sockets are
// looked up once: the lookup clears LISTEN_FDS.
// ---------------------------------------------------------------------------

using Listeners = std::vector<std::unique_ptr<Listener>>;

Listeners open_listeners(asio::any_io_executor executor, const Options& options, ServerContext& context,
                         ConnectionSet& connections) {
  const SystemdSockets& passed = systemd_sockets();
  Listeners listeners;
  listeners.push_back(std::make_unique<Listener>(
      executor, ListenOn{Frontend::binary, passed.main, options.socket_path, options.socket_mode, "--socket"}, context,
      connections));
  if (passed.egd >= 0 || !options.egd_socket_path.empty())
    listeners.push_back(std::make_unique<Listener>(
        executor, ListenOn{Frontend::egd, passed.egd, options.egd_socket_path, options.socket_mode, "--egd-socket"},
        context, connections));
  return listeners;
}

std::string description(const Listeners& listeners) {
  std::string text = listeners.front()->description();
  if (listeners.size() > 1)
    text += " and EGD on " + listeners.back()->description();
  return text;
}

// ---------------------------------------------------------------------------
// Metrics (issue 15)
//
// The HTTP listener runs on its own thread (metrics/http_server.hpp says
// why) and is there only when asked for: a socket systemd passed as
// "metrics", or --metrics-listen.  METRICS on the Unix socket renders the
// same body on the io thread, its counters taken at that instant.
// ---------------------------------------------------------------------------

std::unique_ptr<metrics::HttpServer> metrics_server(const Options& options, asio::io_context& io,
                                                    const ServerContext& context) {
  metrics::HttpEndpoint endpoint;
  const int passed = systemd_sockets().metrics;
  if (passed >= 0)
    endpoint.fd = passed;
  else if (options.metrics_listen)
    endpoint = {.address = options.metrics_listen->address, .port = options.metrics_listen->port};
  else
    return nullptr;
  auto server = std::make_unique<metrics::HttpServer>(endpoint, metrics::snapshot_from(io, context));
  log(LogLevel::info, "metrics at http://", server->description(), "/metrics",
      passed >= 0 ? " (the socket systemd passed; --metrics-listen ignored)" : "");
  return server;
}

std::string metrics_text(const ServerContext& context, const metrics::HttpServer* http) {
  metrics::Snapshot snapshot = metrics::take_snapshot(context);
  if (http)
    snapshot.http = http->stats();
  // Always 0.0.4: METRICS has no Accept to negotiate with, and its reply
  // ends at an empty line, not at OpenMetrics' "# EOF" (PROTOCOL.md §10.4).
  return metrics::render(snapshot, metrics::Format::text);
}

// ---------------------------------------------------------------------------
// Reload (SIGHUP, issue 9 §8)
//
// The options are read again as at start (reload.hpp says which settings
// can change).  The daemon is single-threaded on its io_context, so the
// run-time settings are swapped in place between two events; the hwrng
// reader only posts.  A connection's access is decided when it is
// accepted, so a new access list applies to clients that connect after
// the reload.  A configuration that cannot be read or no longer parses is
// logged, and the running settings stay.
// ---------------------------------------------------------------------------

// Where each run-time setting goes: limits and access to the connections,
// the interval to the entropy service.
void apply_run_time(const Options& options, ServerContext& context, EntropyService& entropy) {
  log_set_level(options.log_level);
  context.limits = server_limits(options);
  context.access = options.access;
  entropy.set_reseed_interval(options.reseed_interval);
  raise_fd_limit(options.max_connections);
}

// "rngpoold: <why>\n" from parse_options(), as one log line.
std::string_view refusal_reason(std::string_view message) {
  if (message.starts_with("rngpoold: "))
    message.remove_prefix(10);
  while (message.ends_with('\n'))
    message.remove_suffix(1);
  return message;
}

struct Running {
  const std::vector<std::string>& args;
  Options options;
  ServerContext& context;
  EntropyService& entropy;
  SystemdGlue& systemd;
  ConnectionSet& connections;
};

void reload(Running& daemon) {
  log(LogLevel::info, "received SIGHUP; reloading the configuration");
  daemon.systemd.reloading();
  auto reread = parse_options(daemon.args);
  if (const auto* refused = std::get_if<OptionsExit>(&reread)) {
    log(LogLevel::error, "reload failed, the running settings stay: ", refusal_reason(refused->message));
  } else {
    ReloadPlan plan = plan_reload(daemon.options, std::get<Options>(reread));
    daemon.options = plan.in_force;
    apply_run_time(daemon.options, daemon.context, daemon.entropy);
    daemon.connections.recheck_access();
    for (const auto& line : plan.report)
      log(line.level, "reload: ", line.text);
    if (plan.report.empty())
      log(LogLevel::info, "reload: no setting changed");
  }
  daemon.systemd.reloaded();
}

// ---------------------------------------------------------------------------
// Shutdown
//
// SIGTERM/SIGINT/SIGQUIT: stop accepting, tell systemd, let every
// connection finish the reply it is writing (closing idle ones at once),
// then stop the entropy service.  Nothing calls io_context::stop(): once
// the last connection and timer are done, run() returns by itself and
// everything is destroyed in order.
// ---------------------------------------------------------------------------

asio::awaitable<void> shut_down(int signal, Listeners& listeners, SystemdGlue& systemd, ConnectionSet& connections,
                                EntropyService& entropy) {
  log(LogLevel::info, "received SIG", sigabbrev_np(signal), "; finishing in-flight replies");
  systemd.stopping();
  for (auto& listener : listeners)
    listener->stop();
  co_await connections.drain(kShutdownGrace);
  entropy.stop();
}

// ---------------------------------------------------------------------------
// Signals
//
// Every signal whose default action would kill the daemon without removing
// its socket file is caught: SIGHUP reloads, SIGUSR1/SIGUSR2 are logged and
// otherwise ignored, SIGTERM/SIGINT/SIGQUIT shut down.  Signals that arrive
// during the shutdown are swallowed.
// ---------------------------------------------------------------------------

asio::awaitable<void> handle_signals(asio::signal_set& signals, Running& daemon, Listeners& listeners,
                                     ConnectionSet& connections) {
  for (;;) {
    error_code ec;
    const int signal = co_await signals.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec)
      co_return;
    if (signal == SIGHUP) {
      reload(daemon);
    } else if (signal == SIGUSR1 || signal == SIGUSR2) {
      log(LogLevel::info, "received SIG", sigabbrev_np(signal), "; ignored (SIGHUP reloads the configuration)");
    } else {
      co_await shut_down(signal, listeners, daemon.systemd, connections, daemon.entropy);
      co_return;
    }
  }
}

// One thread runs all I/O; the helper threads (hwrng reader, kernel-RNG
// waiter) only post() work to it.  So the reactor's per-socket locks can go
// (UNSAFE_IO); the scheduler, which those posts go through, stays locked.
int serve(const std::vector<std::string>& args, const Options& options) {
  asio::io_context io(BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO);
  // Caught before the socket file exists; they wait in the set until run().
  asio::signal_set signals(io, SIGTERM, SIGINT, SIGQUIT);
  for (int reloading_or_ignored : {SIGHUP, SIGUSR1, SIGUSR2})
    signals.add(reloading_or_ignored);
  ServerStats stats;
  ChunkPool chunks(io.get_executor());
  ClientPoller poller(io.get_executor());
  EntropyService entropy(io.get_executor(), entropy_config(options));
  ServerContext context{entropy, stats, chunks, poller, server_limits(options), options.access, {}};
  ConnectionSet connections(io.get_executor(), stats);
  Listeners listeners = open_listeners(io.get_executor(), options, context, connections);
  SystemdGlue systemd(io.get_executor(), context);
  auto http = metrics_server(options, io, context);
  context.metrics_text = [&context, server = http.get()] { return metrics_text(context, server); };
  entropy.on_change([&] { systemd.state_changed(); });

  Running running{args, options, context, entropy, systemd, connections};
  asio::co_spawn(io, handle_signals(signals, running, listeners, connections), asio::detached);

  log(LogLevel::info, "rngpoold ", RNGPOOL_VERSION, " listening on ", description(listeners), ", hwrng ",
      options.hwrng_path.empty() ? std::string("none") : options.hwrng_path,
      options.require_hwrng ? " (required)" : "", ", H = ", options.hwrng_entropy, " bits/byte");
  if (options.access.restricts())
    log(LogLevel::info, "only clients in --allow-user (", options.access.users.size(), " listed) or --allow-group (",
        options.access.groups.size(), " listed) may ask for more than PING");
  systemd.start();
  entropy.start();
  for (auto& listener : listeners)
    listener->start();
  if (http)
    http->start();
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

  const std::vector<std::string> args(argv + 1, argv + argc);
  auto parsed = parse_options(args);
  if (auto* exit = std::get_if<OptionsExit>(&parsed)) {
    (exit->code == 0 ? std::cout : std::cerr) << exit->message << std::flush;
    return exit->code;
  }
  const auto& options = std::get<Options>(parsed);
  log_init(options.log_level);
  raise_fd_limit(options.max_connections);
  try {
    return serve(args, options);
  } catch (const StartupError& e) {
    log(LogLevel::error, e.what());
    return e.exit_code;
  }
}
