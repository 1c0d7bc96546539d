#include "metrics/exposition.hpp"

#include <array>
#include <charconv>
#include <cstdint>
#include <initializer_list>
#include <utility>

namespace rngpool::server::metrics {

namespace {

// ---------------------------------------------------------------------------
// Writing families and samples
//
// Label values are escaped as the format says (backslash, double quote,
// line feed); numbers are integers or the shortest text that reads back as
// the same double.
// ---------------------------------------------------------------------------

using Label = std::pair<std::string_view, std::string_view>;

std::string escaped(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"')
      out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string number(double value) {
  std::array<char, 32> text{};
  auto result = std::to_chars(text.data(), text.data() + text.size(), value);
  return std::string(text.data(), result.ptr);
}

std::string number(std::uint64_t value) { return std::to_string(value); }

class Writer {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_.append("# HELP ").append(name).append(" ").append(help).append("\n");
    out_.append("# TYPE ").append(name).append(" ").append(type).append("\n");
  }

  template <typename Value>
  void sample(std::string_view name, std::initializer_list<Label> labels, Value value) {
    out_.append(name);
    if (labels.size() > 0) {
      out_ += '{';
      bool first = true;
      for (const auto& [key, text] : labels) {
        out_.append(first ? "" : ",").append(key).append("=\"").append(escaped(text)).append("\"");
        first = false;
      }
      out_ += '}';
    }
    out_.append(" ").append(number(value)).append("\n");
  }

  template <typename Value>
  void single(std::string_view name, std::string_view type, std::string_view help, Value value) {
    family(name, type, help);
    sample(name, {}, value);
  }

  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

std::uint64_t flag(bool value) { return value ? 1 : 0; }

// ---------------------------------------------------------------------------
// The daemon and its hwrng
// ---------------------------------------------------------------------------

constexpr std::array kDaemonStates{DaemonState::starting, DaemonState::ready, DaemonState::degraded,
                                   DaemonState::failed};
constexpr std::array kHwrngStates{core::HwrngState::startup,          core::HwrngState::ok,
                                  core::HwrngState::failed_intermittent, core::HwrngState::failed_permanent,
                                  core::HwrngState::absent,           core::HwrngState::exhausted,
                                  core::HwrngState::unreadable};

void daemon_state(Writer& w, const Snapshot& s) {
  w.family("rngpool_build_info", "gauge", "Always 1; the version of rngpoold serving.");
  w.sample("rngpool_build_info", {{"version", s.version}}, std::uint64_t{1});
  w.family("rngpool_state", "gauge", "1 for the daemon's state as STATUS names it, 0 for the others.");
  for (DaemonState state : kDaemonStates)
    w.sample("rngpool_state", {{"state", to_string(state)}}, flag(state == s.state));
  w.family("rngpool_hwrng_state", "gauge", "1 for the hwrng's state as STATUS names it, 0 for the others.");
  for (core::HwrngState state : kHwrngStates)
    w.sample("rngpool_hwrng_state", {{"state", core::to_string(state)}}, flag(state == s.hwrng_state));
  w.single("rngpool_hwrng_in_key", "gauge", "1 when health-tested hwrng bytes are in the key output comes from.",
           flag(s.hwrng_in_key));
  w.single("rngpool_key_memory_locked", "gauge", "1 when the pool's key memory is mlock()ed.",
           flag(s.key_memory_locked));
  w.single("rngpool_uptime_seconds", "gauge", "Seconds since rngpoold started.", s.uptime_seconds);
}

// SP 800-90B §4.4.1 (RCT) and §4.4.2 (APT), each at the intermittent and the
// permanent cutoff.
void health(Writer& w, const Snapshot& s) {
  const auto& h = s.health;
  w.single("rngpool_hwrng_bytes_tested_total", "counter", "hwrng bytes run through the health tests.",
           h.bytes_tested);
  w.single("rngpool_hwrng_bytes_used_total", "counter", "hwrng bytes that passed and went into the input pool.",
           h.bytes_used);
  w.family("rngpool_health_test_failures_total", "counter",
           "SP 800-90B continuous health-test failures, by test (rct, apt) and cutoff level.");
  w.sample("rngpool_health_test_failures_total", {{"test", "rct"}, {"level", "intermittent"}},
           h.intermittent_by_test.rct);
  w.sample("rngpool_health_test_failures_total", {{"test", "rct"}, {"level", "permanent"}}, h.permanent_by_test.rct);
  w.sample("rngpool_health_test_failures_total", {{"test", "apt"}, {"level", "intermittent"}},
           h.intermittent_by_test.apt);
  w.sample("rngpool_health_test_failures_total", {{"test", "apt"}, {"level", "permanent"}}, h.permanent_by_test.apt);
  w.single("rngpool_hwrng_failed_attempts_total", "counter",
           "Failed attempts to open or read an absent or unreadable hwrng.", s.hwrng_failed_attempts);
}

void reseeds(Writer& w, const Snapshot& s) {
  w.family("rngpool_reseeds_total", "counter", "Reseeds of the pool (the first seed included), with and without hwrng input.");
  w.sample("rngpool_reseeds_total", {{"with_hwrng", "true"}}, s.pool.reseeds_with_hwrng);
  w.sample("rngpool_reseeds_total", {{"with_hwrng", "false"}}, s.pool.reseeds - s.pool.reseeds_with_hwrng);
  // Absent until there is a time to measure from, rather than a made-up 0.
  if (s.seconds_since_reseed)
    w.single("rngpool_seconds_since_last_reseed", "gauge", "Seconds since the pool's last reseed.",
             *s.seconds_since_reseed);
  if (s.seconds_since_hwrng_reseed)
    w.single("rngpool_seconds_since_last_hwrng_input", "gauge",
             "Seconds since the last reseed that mixed hwrng bytes into the key.", *s.seconds_since_hwrng_reseed);
}

// ---------------------------------------------------------------------------
// Requests and connections
// ---------------------------------------------------------------------------

constexpr std::array kFrontendList{Frontend::binary, Frontend::text, Frontend::egd};
constexpr std::array kRefusalList{Refusal::max_connections, Refusal::max_connections_per_uid,
                                  Refusal::out_of_descriptors};

template <std::size_t Bounds>
void histogram(Writer& w, std::string_view name, std::string_view help, const Histogram<Bounds>& h,
               const std::array<std::uint64_t, Bounds>& bounds, double unit) {
  w.family(name, "histogram", help);
  const std::string bucket = std::string(name) + "_bucket";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < Bounds; ++i) {
    cumulative += h.buckets[i];
    w.sample(bucket, {{"le", number(static_cast<double>(bounds[i]) * unit)}}, cumulative);
  }
  cumulative += h.buckets[Bounds];
  w.sample(bucket, {{"le", "+Inf"}}, cumulative);
  w.sample(std::string(name) + "_sum", {}, static_cast<double>(h.sum) * unit);
  w.sample(std::string(name) + "_count", {}, cumulative);
}

void requests(Writer& w, const Snapshot& s) {
  const RequestStats& r = s.server.requests;
  w.family("rngpool_requests_total", "counter",
           "Random-byte requests answered OK and requests of any kind answered with an error, by front-end "
           "and protocol status.");
  for (Frontend frontend : kFrontendList)
    for (std::size_t status = 0; status < kStatuses; ++status)
      w.sample("rngpool_requests_total",
               {{"frontend", frontend_name(frontend)},
                {"status", protocol::status_name(static_cast<protocol::Status>(status))}},
               r.replies[static_cast<std::size_t>(frontend)][status]);
  w.single("rngpool_bytes_served_total", "counter", "Random bytes handed out.", s.server.bytes_served);
  histogram(w, "rngpool_request_size_bytes", "Random-byte requests served, by size.", r.size, kSizeBounds, 1.0);
  histogram(w, "rngpool_request_duration_seconds",
            "Random-byte requests served, from reading the request to queueing the whole reply.", r.latency,
            kLatencyBounds, 1e-9);
}

void connections(Writer& w, const Snapshot& s) {
  w.single("rngpool_clients_connected", "gauge", "Clients connected to the Unix socket now.",
           s.server.clients_connected);
  w.single("rngpool_connections_accepted_total", "counter", "Connections accepted on the Unix socket.",
           s.server.connections_accepted);
  w.family("rngpool_connections_refused_total", "counter", "Connections told BUSY and closed, by why.");
  for (Refusal refusal : kRefusalList)
    w.sample("rngpool_connections_refused_total", {{"reason", refusal_name(refusal)}},
             s.server.requests.refused[static_cast<std::size_t>(refusal)]);
}

void http(Writer& w, const HttpStats& h) {
  w.single("rngpool_metrics_http_requests_total", "counter", "HTTP requests the metrics listener answered.",
           h.requests);
  w.single("rngpool_metrics_http_connections_accepted_total", "counter",
           "Connections the metrics listener accepted.", h.connections_accepted);
  w.single("rngpool_metrics_http_connections_refused_total", "counter",
           "Connections the metrics listener closed at its connection limit: the oldest one without a whole "
           "request, or a newcomer.",
           h.connections_refused);
  w.single("rngpool_metrics_http_requests_rejected_total", "counter",
           "HTTP requests refused as malformed, too large or too slow.", h.requests_rejected);
}

}  // namespace

std::string render(const Snapshot& snapshot) {
  Writer w;
  daemon_state(w, snapshot);
  health(w, snapshot);
  reseeds(w, snapshot);
  requests(w, snapshot);
  connections(w, snapshot);
  if (snapshot.http)
    http(w, *snapshot.http);
  return w.take();
}

}  // namespace rngpool::server::metrics
