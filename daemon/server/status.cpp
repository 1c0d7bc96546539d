#include "server/status.hpp"

#include <sstream>

#include "server/log.hpp"

namespace rngpool::server {

namespace {

// A value as STATUS shows it: as an ostream prints it, booleans as yes/no.
template <typename Value>
std::string text(const Value& value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

std::string text(bool value) { return value ? "yes" : "no"; }

double seconds(std::chrono::milliseconds duration) { return static_cast<double>(duration.count()) / 1000.0; }

}  // namespace

// ---------------------------------------------------------------------------
// STATUS
//
// The keys of issue 3 §1 first, in its order, then what an operator needs to
// interpret them (failure levels, limits, key memory).
// ---------------------------------------------------------------------------

protocol::StatusReport status_report(const ServerContext& context) {
  const EntropyService& entropy = context.entropy;
  const auto& cutoffs = entropy.health().cutoffs();
  const auto& health = entropy.health().counters();
  const auto& pool = entropy.pool().counters();
  const ServerStats& stats = context.stats;
  auto uptime = std::chrono::duration_cast<std::chrono::seconds>(SteadyClock::now() - stats.started);
  const std::string& hwrng = entropy.config().hwrng_path;

  return {
      {"state", text(to_string(entropy.state()))},
      {"health", health_line(entropy)},
      {"hwrng", text(hwrng.empty() ? std::string("none") : hwrng)},
      {"hwrng_state", text(core::to_string(entropy.hwrng_state()))},
      {"hwrng_entropy_per_byte", text(entropy.health().entropy_per_byte())},
      {"rct_cutoff_intermittent", text(cutoffs.rct_intermittent)},
      {"rct_cutoff_permanent", text(cutoffs.rct_permanent)},
      {"apt_cutoff_intermittent", text(cutoffs.apt_intermittent)},
      {"apt_cutoff_permanent", text(cutoffs.apt_permanent)},
      {"apt_window", text(cutoffs.apt_window)},
      {"hwrng_bytes_tested", text(health.bytes_tested)},
      {"hwrng_bytes_used", text(health.bytes_used)},
      {"rct_failures", text(health.rct_failures)},
      {"apt_failures", text(health.apt_failures)},
      {"reseeds", text(pool.reseeds)},
      {"requests_served", text(stats.requests_served)},
      {"bytes_served", text(stats.bytes_served)},
      {"clients_connected", text(stats.clients_connected)},
      {"uptime_s", text(uptime.count())},
      {"version", text(RNGPOOL_VERSION)},
      // what an operator needs to interpret the keys above
      {"require_hwrng", text(entropy.config().require_hwrng)},
      {"hwrng_read_error", text(entropy.hwrng_read_error() ? errno_text(entropy.hwrng_read_error()) : "none")},
      {"hwrng_in_key", text(entropy.pool().seeded() && entropy.pool().hwrng_in_key())},
      {"intermittent_failures", text(health.intermittent_failures)},
      {"permanent_failures", text(health.permanent_failures)},
      {"reseeds_with_hwrng", text(pool.reseeds_with_hwrng)},
      {"reseed_interval_s", text(entropy.config().reseed_interval.count())},
      {"key_memory_locked", text(entropy.pool().key_memory_locked())},
      {"requests_refused", text(stats.requests_refused)},
      {"connections_accepted", text(stats.connections_accepted)},
      {"connections_refused", text(stats.connections_refused)},
      {"max_connections", text(context.limits.max_connections)},
      {"max_request", text(context.limits.max_request)},
      {"idle_timeout_s", text(seconds(context.limits.idle_timeout))},
  };
}

// ---------------------------------------------------------------------------
// HEALTH
//
// For a monitoring probe: OK only when the daemon serves with everything it
// was configured to use.  Before the first seed it is DEGRADED (it will
// serve, but not yet); FAILED means it refuses GET_RANDOM until restarted.
// ---------------------------------------------------------------------------

std::string health_line(const EntropyService& entropy) {
  std::string hwrng(core::to_string(entropy.hwrng_state()));
  switch (entropy.state()) {
    case DaemonState::ready:
      return "OK";
    case DaemonState::starting:
      return "DEGRADED starting: waiting for the kernel RNG before the first seed";
    case DaemonState::degraded:
      if (entropy.hwrng_read_error() != 0)
        hwrng = "read errors (" + errno_text(entropy.hwrng_read_error()) + ")";
      return "DEGRADED hwrng " + hwrng + ": serving from getrandom(2) alone";
    case DaemonState::failed:
      return "FAILED hwrng " + hwrng + " and --require-hwrng is set: GET_RANDOM refused";
  }
  return "FAILED unknown state";
}

std::string status_line(const ServerContext& context) {
  std::ostringstream line;
  line << to_string(context.entropy.state()) << ", hwrng " << core::to_string(context.entropy.hwrng_state())
       << ", " << context.stats.clients_connected << " client"
       << (context.stats.clients_connected == 1 ? "" : "s");
  return line.str();
}

}  // namespace rngpool::server
