#include "metrics/exposition.hpp"

#include <array>
#include <charconv>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>
#include <utility>

namespace rngpool::server::metrics {

namespace {

// ---------------------------------------------------------------------------
// Writing families and samples
//
// The family list below says what is reported; the Writer says how, in
// either format.  Numbers are integers or the shortest text that reads back
// as the same double, which both formats accept as a value.
// ---------------------------------------------------------------------------

using Label = std::pair<std::string_view, std::string_view>;

enum class Type { counter, gauge, info, histogram };

// A family's name as OpenMetrics 1.0 names it: without the suffix its
// samples carry (a counter's _total, an info's _info, a histogram's
// _bucket, _sum and _count), which the Writer appends in both formats.
// OpenMetrics 1.0 "Suffixes": a family name must not clash with another's
// sample names; checked at compile time, so a counter cannot be listed as
// "..._total" (its samples would read "..._total_total") nor one written
// without _total.
struct FamilyName {
  consteval FamilyName(const char* name) : text(name) {
    for (std::string_view suffix : {"_total", "_created", "_info", "_bucket", "_sum", "_count", "_gsum", "_gcount"})
      if (text.ends_with(suffix))
        throw "name the family without its samples' suffix: the writer adds it";
  }
  std::string_view text;
};

std::string number(double value) {
  std::array<char, 32> text{};
  auto result = std::to_chars(text.data(), text.data() + text.size(), value);
  return std::string(text.data(), result.ptr);
}

std::string number(std::uint64_t value) { return std::to_string(value); }

// OpenMetrics 1.0 "Considerations: Canonical Numbers": an `le` value as Go
// renders a float64 with %g (the shortest digits that read back, in
// exponent form below 1e-4 and from 1e+06 up), with ".0" appended when
// there is neither a point nor an exponent: 32.0, 1.048576e+06, 5e-05,
// 0.0001, 1.0, +Inf.
std::string canonical(double value) {
  if (value == std::numeric_limits<double>::infinity())
    return "+Inf";
  std::array<char, 32> text{};
  auto result = std::to_chars(text.data(), text.data() + text.size(), value, std::chars_format::scientific);
  std::string out(text.data(), result.ptr);
  const std::size_t e = out.find('e');
  int exponent = 0;
  std::from_chars(out.data() + e + 2, out.data() + out.size(), exponent);
  if (out[e + 1] == '-')
    exponent = -exponent;
  if (exponent < -4 || exponent >= 6)
    return out;  // %e's form is C's: at least two exponent digits, as Go's
  result = std::to_chars(text.data(), text.data() + text.size(), value, std::chars_format::fixed);
  out.assign(text.data(), result.ptr);
  if (out.find('.') == std::string::npos)
    out += ".0";
  return out;
}

std::string_view type_name(Type type) {
  switch (type) {
    case Type::counter: return "counter";
    case Type::gauge: return "gauge";
    case Type::info: return "info";
    case Type::histogram: return "histogram";
  }
  return "unknown";
}

// A unit the name ends in, for OpenMetrics' UNIT line ("If the unit is
// known it SHOULD be provided"; it must be the name's suffix).
std::string_view unit_of(std::string_view name) {
  for (std::string_view unit : {"seconds", "bytes"})
    if (name.ends_with(unit) && name.size() > unit.size() && name[name.size() - unit.size() - 1] == '_')
      return unit;
  return {};
}

class Writer {
 public:
  explicit Writer(Format format) : format_(format) {}

  void family(FamilyName name, Type type, std::string_view help) {
    name_ = name.text;
    type_ = type;
    if (format_ == Format::text) {
      // 0.0.4 names a family after its samples and has no info type; a
      // build_info is a gauge there, as everywhere before OpenMetrics.
      const std::string named = std::string(name_) + std::string(value_suffix());
      out_.append("# HELP ").append(named).append(" ").append(escape(help, Escaping::help_text)).append("\n");
      out_.append("# TYPE ").append(named).append(" ").append(type == Type::info ? "gauge" : type_name(type));
      out_.append("\n");
      return;
    }
    // OpenMetrics 1.0 "MetricFamily metadata": TYPE, UNIT, HELP in that
    // order, under the family's own name; no unit for an info.
    out_.append("# TYPE ").append(name_).append(" ").append(type_name(type)).append("\n");
    if (const auto unit = unit_of(name_); !unit.empty() && type != Type::info)
      out_.append("# UNIT ").append(name_).append(" ").append(unit).append("\n");
    out_.append("# HELP ").append(name_).append(" ").append(escape(help, Escaping::help_openmetrics)).append("\n");
  }

  // The value of the current family's counter (..._total), gauge or info
  // (..._info) with these labels.
  template <typename Value>
  void sample(std::initializer_list<Label> labels, Value value) {
    line(value_suffix(), labels, number(value));
  }

  // A histogram's: cumulative buckets up to +Inf, then sum and count.
  void bucket(double bound, std::uint64_t cumulative) {
    const std::string le = format_ == Format::openmetrics ? canonical(bound)
                           : bound == std::numeric_limits<double>::infinity() ? std::string("+Inf")
                                                                               : number(bound);
    line("_bucket", {{"le", le}}, number(cumulative));
  }
  void sum(double value) { line("_sum", {}, number(value)); }
  void count(std::uint64_t value) { line("_count", {}, number(value)); }

  template <typename Value>
  void single(FamilyName name, Type type, std::string_view help, Value value) {
    family(name, type, help);
    sample({}, value);
  }

  // OpenMetrics 1.0 "Overall Structure": the exposition ends with EOF.
  std::string take() {
    if (format_ == Format::openmetrics)
      out_.append("# EOF\n");
    return std::move(out_);
  }

 private:
  std::string_view value_suffix() const {
    switch (type_) {
      case Type::counter: return "_total";
      case Type::info: return "_info";
      case Type::gauge:
      case Type::histogram: return "";
    }
    return "";
  }

  void line(std::string_view suffix, std::initializer_list<Label> labels, const std::string& value) {
    out_.append(name_).append(suffix);
    if (labels.size() > 0) {
      out_ += '{';
      bool first = true;
      for (const auto& [key, text] : labels) {
        out_.append(first ? "" : ",").append(key).append("=\"");
        out_.append(escape(text, Escaping::label_value)).append("\"");
        first = false;
      }
      out_ += '}';
    }
    out_.append(" ").append(value).append("\n");
  }

  Format format_;
  std::string_view name_;
  Type type_ = Type::gauge;
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

// The state sets stay gauges with a `state` label in OpenMetrics too: its
// stateset type would name the label after the family (rngpool_state{
// rngpool_state="ready"}), and the series, the README's queries and the
// shipped rules would differ with the format Prometheus negotiated.
void daemon_state(Writer& w, const Snapshot& s) {
  w.family("rngpool_build", Type::info, "Always 1; the version of rngpoold serving.");
  w.sample({{"version", s.version}}, std::uint64_t{1});
  w.family("rngpool_state", Type::gauge, "1 for the daemon's state as STATUS names it, 0 for the others.");
  for (DaemonState state : kDaemonStates)
    w.sample({{"state", to_string(state)}}, flag(state == s.state));
  w.family("rngpool_hwrng_state", Type::gauge, "1 for the hwrng's state as STATUS names it, 0 for the others.");
  for (core::HwrngState state : kHwrngStates)
    w.sample({{"state", core::to_string(state)}}, flag(state == s.hwrng_state));
  w.single("rngpool_hwrng_in_key", Type::gauge, "1 when health-tested hwrng bytes are in the key output comes from.",
           flag(s.hwrng_in_key));
  w.single("rngpool_key_memory_locked", Type::gauge, "1 when the pool's key memory is mlock()ed.",
           flag(s.key_memory_locked));
  w.single("rngpool_uptime_seconds", Type::gauge, "Seconds since rngpoold started.", s.uptime_seconds);
}

// SP 800-90B §4.4.1 (RCT) and §4.4.2 (APT), each at the intermittent and the
// permanent cutoff.
void health(Writer& w, const Snapshot& s) {
  const auto& h = s.health;
  w.single("rngpool_hwrng_bytes_tested", Type::counter, "hwrng bytes run through the health tests.",
           h.bytes_tested);
  w.single("rngpool_hwrng_bytes_used", Type::counter, "hwrng bytes that passed and went into the input pool.",
           h.bytes_used);
  w.family("rngpool_health_test_failures", Type::counter,
           "SP 800-90B continuous health-test failures, by test (rct, apt) and cutoff level.");
  w.sample({{"test", "rct"}, {"level", "intermittent"}}, h.intermittent_by_test.rct);
  w.sample({{"test", "rct"}, {"level", "permanent"}}, h.permanent_by_test.rct);
  w.sample({{"test", "apt"}, {"level", "intermittent"}}, h.intermittent_by_test.apt);
  w.sample({{"test", "apt"}, {"level", "permanent"}}, h.permanent_by_test.apt);
  w.single("rngpool_hwrng_failed_attempts", Type::counter,
           "Failed attempts to open or read an absent or unreadable hwrng.", s.hwrng_failed_attempts);
}

void reseeds(Writer& w, const Snapshot& s) {
  w.family("rngpool_reseeds", Type::counter,
           "Reseeds of the pool (the first seed included), with and without hwrng input.");
  w.sample({{"with_hwrng", "true"}}, s.pool.reseeds_with_hwrng);
  w.sample({{"with_hwrng", "false"}}, s.pool.reseeds - s.pool.reseeds_with_hwrng);
  // Absent until there is a time to measure from, rather than a made-up 0.
  // Named as ages with the unit last (Prometheus "Metric and label naming":
  // the unit is the suffix), so OpenMetrics' UNIT line names it too.
  if (s.seconds_since_reseed)
    w.single("rngpool_last_reseed_age_seconds", Type::gauge, "Seconds since the pool's last reseed.",
             *s.seconds_since_reseed);
  if (s.seconds_since_hwrng_reseed)
    w.single("rngpool_last_hwrng_contribution_age_seconds", Type::gauge,
             "Seconds since the last reseed that mixed hwrng bytes into the key.", *s.seconds_since_hwrng_reseed);
  w.single("rngpool_auxiliary_bytes_mixed", Type::counter,
           "Auxiliary input bytes (EGD adds from root) mixed into a key; never counted as hwrng input.",
           s.pool.auxiliary_bytes_mixed);
}

// ---------------------------------------------------------------------------
// Requests and connections
// ---------------------------------------------------------------------------

constexpr std::array kFrontendList{Frontend::binary, Frontend::text, Frontend::egd};
constexpr std::array kRefusalList{Refusal::max_connections, Refusal::max_connections_per_uid,
                                  Refusal::out_of_descriptors};

// Cumulative buckets, +Inf equal to the count, the sum in base units: 0.0.4
// "Histograms and summaries", OpenMetrics 1.0 "Histogram".
template <std::size_t Bounds>
void histogram(Writer& w, FamilyName name, std::string_view help, const Histogram<Bounds>& h,
               const std::array<std::uint64_t, Bounds>& bounds, double unit) {
  w.family(name, Type::histogram, help);
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < Bounds; ++i) {
    cumulative += h.buckets[i];
    w.bucket(static_cast<double>(bounds[i]) * unit, cumulative);
  }
  cumulative += h.buckets[Bounds];
  w.bucket(std::numeric_limits<double>::infinity(), cumulative);
  w.sum(static_cast<double>(h.sum) * unit);
  w.count(cumulative);
}

void requests(Writer& w, const Snapshot& s) {
  const RequestStats& r = s.server.requests;
  w.family("rngpool_requests", Type::counter,
           "Random-byte requests answered OK and requests of any kind refused, by front-end and protocol "
           "status (the EGD socket closes instead of answering an error: counted under the status it stands for).");
  for (Frontend frontend : kFrontendList)
    for (std::size_t status = 0; status < kStatuses; ++status)
      w.sample({{"frontend", frontend_name(frontend)},
                {"status", protocol::status_name(static_cast<protocol::Status>(status))}},
               r.replies[static_cast<std::size_t>(frontend)][status]);
  w.single("rngpool_bytes_served", Type::counter, "Random bytes handed out.", s.server.bytes_served);
  histogram(w, "rngpool_request_size_bytes", "Random-byte requests served, by size.", r.size, kSizeBounds, 1.0);
  histogram(w, "rngpool_request_duration_seconds",
            "Random-byte requests served, from reading the request to queueing the whole reply.", r.latency,
            kLatencyBounds, 1e-9);
}

void connections(Writer& w, const Snapshot& s) {
  w.single("rngpool_clients_connected", Type::gauge, "Clients connected now, to the main and the EGD socket.",
           s.server.clients_connected);
  w.single("rngpool_connections_accepted", Type::counter, "Connections accepted on the main and the EGD socket.",
           s.server.connections_accepted);
  w.family("rngpool_connections_refused", Type::counter,
           "Connections refused at a limit, by why, on either socket: told BUSY and closed (main), closed at once "
           "(EGD).");
  for (Refusal refusal : kRefusalList)
    w.sample({{"reason", refusal_name(refusal)}}, s.server.requests.refused[static_cast<std::size_t>(refusal)]);
}

// The EGD socket's own counters (PROTOCOL.md §13.4), present at 0 without an
// EGD socket too, like every other series.  Its connections, bytes and
// refused requests are also in the totals above (frontend="egd"); the
// outcomes STATUS splits into keys are labels here.
void egd(Writer& w, const EgdStats& e) {
  w.single("rngpool_egd_connections_accepted", Type::counter, "Connections accepted on the EGD socket.",
           e.connections);
  w.single("rngpool_egd_connections_refused", Type::counter,
           "EGD connections closed at once by a connection limit or for want of descriptors.", e.connections_refused);
  w.family("rngpool_egd_connections_closed", Type::counter,
           "EGD connections closed instead of answered (EGD has no error reply), by why.");
  w.sample({{"reason", "bad_command"}}, e.closed_bad_command);
  w.sample({{"reason", "permission"}}, e.closed_permission);
  w.sample({{"reason", "not_ready"}}, e.closed_not_ready);
  w.sample({{"reason", "hwrng_unavailable"}}, e.closed_hwrng_unavailable);
  w.single("rngpool_egd_requests", Type::counter, "EGD requests answered, or taken (adds, which have no reply).",
           e.requests);
  w.single("rngpool_egd_bytes_served", Type::counter, "Random bytes sent on the EGD socket.", e.bytes);
  w.family("rngpool_egd_adds", Type::counter,
           "EGD add-entropy requests (0x03), by result: accepted from root as auxiliary input, refused from others.");
  w.sample({{"result", "accepted"}}, e.adds_accepted);
  w.sample({{"result", "refused"}}, e.adds_refused);
  w.single("rngpool_egd_bytes_added", Type::counter, "Bytes of the accepted EGD adds.", e.bytes_added);
}

void http(Writer& w, const HttpStats& h) {
  w.single("rngpool_metrics_http_requests", Type::counter, "HTTP requests the metrics listener answered.",
           h.requests);
  w.single("rngpool_metrics_http_connections_accepted", Type::counter, "Connections the metrics listener accepted.",
           h.connections_accepted);
  w.single("rngpool_metrics_http_connections_refused", Type::counter,
           "Connections the metrics listener closed at its connection limit: the oldest one without a whole "
           "request, or a newcomer.",
           h.connections_refused);
  w.single("rngpool_metrics_http_requests_rejected", Type::counter,
           "HTTP requests refused as malformed, too large or too slow.", h.requests_rejected);
}

}  // namespace

// 0.0.4 "Text format details"; OpenMetrics 1.0 "Escaping" (its ABNF's
// escaped-string, in label values and HELP alike).
std::string escape(std::string_view text, Escaping escaping) {
  const bool quote = escaping != Escaping::help_text;
  std::string out;
  for (char c : text) {
    if (c == '\\' || (quote && c == '"'))
      out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string_view content_type(Format format) {
  // OpenMetrics 1.0 "Overall Structure" gives its content type.
  return format == Format::openmetrics ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
                                       : "text/plain; version=0.0.4; charset=utf-8";
}

std::string render(const Snapshot& snapshot, Format format) {
  Writer w(format);
  daemon_state(w, snapshot);
  health(w, snapshot);
  reseeds(w, snapshot);
  requests(w, snapshot);
  connections(w, snapshot);
  egd(w, snapshot.server.egd);
  if (snapshot.http)
    http(w, *snapshot.http);
  return w.take();
}

}  // namespace rngpool::server::metrics
