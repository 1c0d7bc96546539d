#include "serve/status.hpp"

#include <sstream>

#include "runtime/log.hpp"

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

namespace {

// The EGD socket's counters (PROTOCOL.md §13.5), after everything else.
void add_egd_keys(protocol::StatusReport& report, const EgdStats& egd) {
  report.insert(report.end(), {
      {"egd_connections_accepted", text(egd.connections)},
      {"egd_connections_refused", text(egd.connections_refused)},
      {"egd_requests", text(egd.requests)},
      {"egd_bytes_served", text(egd.bytes)},
      {"egd_adds_accepted", text(egd.adds_accepted)},
      {"egd_adds_refused", text(egd.adds_refused)},
      {"egd_bytes_added", text(egd.bytes_added)},
      {"egd_closed_bad_command", text(egd.closed_bad_command)},
      {"egd_closed_permission", text(egd.closed_permission)},
      {"egd_closed_not_ready", text(egd.closed_not_ready)},
      {"egd_closed_hwrng_unavailable", text(egd.closed_hwrng_unavailable)},
  });
}

}  // namespace

protocol::StatusReport status_report(const ServerContext& context) {
  const EntropyService& entropy = context.entropy;
  const auto& cutoffs = entropy.health().cutoffs();
  const auto& health = entropy.health().counters();
  const auto& pool = entropy.pool().counters();
  const ServerStats& stats = context.stats;
  auto uptime = std::chrono::duration_cast<std::chrono::seconds>(SteadyClock::now() - stats.started);
  const std::string& hwrng = entropy.config().hwrng_path;

  protocol::StatusReport report{
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
      {"hwrng_failed_attempts", text(entropy.hwrng_failed_attempts())},
      {"hwrng_retry_s", text(seconds(entropy.config().hwrng_retry))},
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
      {"auxiliary_bytes_mixed", text(pool.auxiliary_bytes_mixed)},
  };
  add_egd_keys(report, stats.egd);
  return report;
}

// ---------------------------------------------------------------------------
// HEALTH
//
// For a monitoring probe, and true about what a GET_RANDOM without flags
// gets (issue 9 item 7): OK only when it is served with everything the
// daemon was configured to use; DEGRADED when it waits (starting) or is
// served with less (the hwrng contributes nothing, key memory not locked);
// FAILED when it is refused.  Each reason names its cause, errno included
// (issue 10 §1), so an operator need not guess between "absent" and a
// permission problem.
// ---------------------------------------------------------------------------

namespace {

using core::HwrngState;

// "hwrng <state>", then why it delivers nothing, when there is an errno.
std::string hwrng_description(const EntropyService& entropy) {
  if (entropy.config().hwrng_path.empty())
    return "hwrng absent: --hwrng none";
  auto state = entropy.hwrng_state();
  int error = entropy.hwrng_read_error();
  if (error == 0)
    return "hwrng " + std::string(core::to_string(state));
  if (state == HwrngState::absent || state == HwrngState::unreadable)
    return "hwrng " + std::string(core::to_string(state)) + ": " + errno_text(error) + " (retried every " +
           text(seconds(entropy.config().hwrng_retry)) + " s)";
  return "hwrng read errors: " + errno_text(error) + " (retried with back-off)";
}

std::string starting_reason(const EntropyService& entropy) {
  if (!entropy.pool().seeded())
    return "starting: waiting for the kernel RNG before the first seed";
  bool testing = entropy.hwrng_state() != HwrngState::ok;
  return std::string("starting: --require-hwrng is set and ") +
         (testing ? "the hwrng has not passed its start-up test yet" : "the hwrng's tested bytes are not in the key yet") +
         ": GET_RANDOM waits for it";
}

std::string degraded_reason(const EntropyService& entropy) {
  std::string reason;
  if (!entropy.hwrng_healthy())
    reason = hwrng_description(entropy) + (entropy.config().require_hwrng
                                               ? "; --require-hwrng is set: GET_RANDOM waits for it"
                                               : "; serving from getrandom(2) alone");
  if (!entropy.key_memory_problem().empty())
    reason += (reason.empty() ? "" : "; ") + entropy.key_memory_problem();
  return reason;
}

std::string memory_suffix(const EntropyService& entropy) {
  return entropy.key_memory_problem().empty() ? "" : "; " + entropy.key_memory_problem();
}

}  // namespace

std::string health_line(const EntropyService& entropy) {
  switch (entropy.state()) {
    case DaemonState::ready:
      return "OK";
    case DaemonState::starting:
      return "DEGRADED " + starting_reason(entropy) + memory_suffix(entropy);
    case DaemonState::degraded:
      return "DEGRADED " + degraded_reason(entropy);
    case DaemonState::failed:
      return "FAILED " + hwrng_description(entropy) + "; --require-hwrng is set: GET_RANDOM refused" +
             memory_suffix(entropy);
  }
  return "FAILED unknown state";
}

// One line for `systemctl status`: the state and the hwrng with its cause,
// as HEALTH names them, and the clients.
std::string status_line(const ServerContext& context) {
  const EntropyService& entropy = context.entropy;
  std::ostringstream line;
  line << to_string(entropy.state()) << ", " << hwrng_description(entropy)
       << (entropy.key_memory_problem().empty() ? "" : ", key memory not locked") << ", "
       << context.stats.clients_connected << " client" << (context.stats.clients_connected == 1 ? "" : "s");
  return line.str();
}

}  // namespace rngpool::server
