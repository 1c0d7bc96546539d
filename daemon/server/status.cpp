#include "server/status.hpp"

#include <sstream>

#include "server/log.hpp"

namespace rngpool::server {

namespace {

template <typename Value>
void add(protocol::StatusReport& report, const char* key, const Value& value) {
  std::ostringstream text;
  text << value;
  report.emplace_back(key, text.str());
}

void add(protocol::StatusReport& report, const char* key, bool value) {
  report.emplace_back(key, value ? "yes" : "no");
}

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

  protocol::StatusReport report;
  add(report, "state", to_string(entropy.state()));
  add(report, "hwrng", hwrng.empty() ? std::string("none") : hwrng);
  add(report, "hwrng_state", core::to_string(entropy.hwrng_state()));
  add(report, "hwrng_entropy_per_byte", entropy.health().entropy_per_byte());
  add(report, "rct_cutoff_intermittent", cutoffs.rct_intermittent);
  add(report, "rct_cutoff_permanent", cutoffs.rct_permanent);
  add(report, "apt_cutoff_intermittent", cutoffs.apt_intermittent);
  add(report, "apt_cutoff_permanent", cutoffs.apt_permanent);
  add(report, "apt_window", cutoffs.apt_window);
  add(report, "hwrng_bytes_tested", health.bytes_tested);
  add(report, "hwrng_bytes_used", health.bytes_used);
  add(report, "rct_failures", health.rct_failures);
  add(report, "apt_failures", health.apt_failures);
  add(report, "reseeds", pool.reseeds);
  add(report, "requests_served", stats.requests_served);
  add(report, "bytes_served", stats.bytes_served);
  add(report, "clients_connected", stats.clients_connected);
  add(report, "uptime_s", uptime.count());
  add(report, "version", RNGPOOL_VERSION);

  add(report, "require_hwrng", entropy.config().require_hwrng);
  add(report, "hwrng_read_error", entropy.hwrng_read_error() ? errno_text(entropy.hwrng_read_error()) : "none");
  add(report, "hwrng_in_key", entropy.pool().seeded() && entropy.pool().hwrng_in_key());
  add(report, "intermittent_failures", health.intermittent_failures);
  add(report, "permanent_failures", health.permanent_failures);
  add(report, "reseeds_with_hwrng", pool.reseeds_with_hwrng);
  add(report, "reseed_interval_s", entropy.config().reseed_interval.count());
  add(report, "key_memory_locked", entropy.pool().key_memory_locked());
  add(report, "requests_refused", stats.requests_refused);
  add(report, "connections_accepted", stats.connections_accepted);
  add(report, "connections_refused", stats.connections_refused);
  add(report, "max_connections", context.limits.max_connections);
  add(report, "max_request", context.limits.max_request);
  add(report, "idle_timeout_s", seconds(context.limits.idle_timeout));
  return report;
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
    case DaemonState::ok:
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
