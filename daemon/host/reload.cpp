#include "host/reload.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <sstream>

namespace rngpool::server {

namespace {

// ---------------------------------------------------------------------------
// How a value reads in the log
// ---------------------------------------------------------------------------

std::string text_of(const std::string& value) { return value.empty() ? "none" : value; }
std::string text_of(bool value) { return value ? "true" : "false"; }
std::string text_of(std::uint32_t value) { return std::to_string(value); }
std::string text_of(std::uint64_t value) { return std::to_string(value); }
std::string text_of(LogLevel value) { return std::string(to_string(value)); }
std::string text_of(std::chrono::seconds value) { return std::to_string(value.count()) + " s"; }

std::string text_of(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

std::string text_of(std::chrono::milliseconds value) {
  std::ostringstream out;
  out << static_cast<double>(value.count()) / 1000.0 << " s";
  return out.str();
}

std::string text_of(const std::vector<std::uint32_t>& ids) {
  if (ids.empty())
    return "none";
  std::string out;
  for (std::uint32_t id : ids)
    out += (out.empty() ? "" : ",") + std::to_string(id);
  return out;
}

struct PlainText {
  template <typename T>
  std::string operator()(const T& value) const {
    return text_of(value);
  }
};

struct OctalText {
  std::string operator()(mode_t mode) const {
    std::ostringstream out;
    out << '0' << std::oct << mode;
    return out.str();
  }
};

// "off" or "ADDR:PORT", as --metrics-listen takes it.
struct ListenText {
  std::string operator()(const std::optional<MetricsListen>& listen) const {
    if (!listen)
      return "off";
    const bool v6 = listen->address.find(':') != std::string::npos;
    return (v6 ? "[" + listen->address + "]" : listen->address) + ":" + std::to_string(listen->port);
  }
};

// ---------------------------------------------------------------------------
// The settings
//
// One row per option: its name, whether a running daemon takes it, and the
// Options field it fills.  A new option joins the reload with one row here
// (run-time ones also need their place in main.cpp's apply_run_time()).
// ---------------------------------------------------------------------------

enum class When { run_time, restart };

struct Setting {
  std::string_view name;
  When when;
  std::function<bool(const Options&, const Options&)> differs;
  std::function<void(const Options& from, Options& to)> take;
  std::function<std::string(const Options&)> text;
};

// `field` is a generic lambda returning the field of a const or mutable Options.
template <typename Field, typename Format = PlainText>
Setting setting(std::string_view name, When when, Field field, Format format = {}) {
  return {name, when, [field](const Options& a, const Options& b) { return !(field(a) == field(b)); },
          [field](const Options& from, Options& to) { field(to) = field(from); },
          [field, format](const Options& options) { return format(field(options)); }};
}

template <typename T>
auto member(T Options::*field) {
  return [field](auto& options) -> auto& { return options.*field; };
}

const std::vector<Setting>& settings() {
  static const std::vector<Setting> table{
      setting("log-level", When::run_time, member(&Options::log_level)),
      setting("allow-user", When::run_time, [](auto& o) -> auto& { return o.access.users; }),
      setting("allow-group", When::run_time, [](auto& o) -> auto& { return o.access.groups; }),
      setting("max-request", When::run_time, member(&Options::max_request)),
      setting("max-connections", When::run_time, member(&Options::max_connections)),
      setting("max-connections-per-uid", When::run_time, member(&Options::max_connections_per_uid)),
      setting("max-output-memory", When::run_time, member(&Options::max_output_memory)),
      setting("idle-timeout", When::run_time, member(&Options::idle_timeout)),
      setting("reseed-interval", When::run_time, member(&Options::reseed_interval)),
      // Bound at start: the listening socket, the hwrng reader and the
      // health-test cutoffs derived from H.
      setting("socket", When::restart, member(&Options::socket_path)),
      setting("socket-mode", When::restart, member(&Options::socket_mode), OctalText{}),
      setting("egd-socket", When::restart, member(&Options::egd_socket_path)),
      setting("hwrng", When::restart, member(&Options::hwrng_path)),
      setting("hwrng-entropy", When::restart, member(&Options::hwrng_entropy)),
      setting("require-hwrng", When::restart, member(&Options::require_hwrng)),
      setting("hwrng-retry", When::restart, member(&Options::hwrng_retry)),
      // The metrics listener is bound (or passed by systemd) at start.
      setting("metrics-listen", When::restart, member(&Options::metrics_listen), ListenText{}),
  };
  return table;
}

}  // namespace

ReloadPlan plan_reload(const Options& running, const Options& reread) {
  ReloadPlan plan{running, {}};
  for (const Setting& s : settings()) {
    if (!s.differs(running, reread))
      continue;
    std::string change = std::string(s.name) + " " + s.text(running) + " -> " + s.text(reread);
    if (s.when == When::run_time) {
      s.take(reread, plan.in_force);
      plan.report.push_back({LogLevel::info, std::move(change)});
    } else {
      plan.report.push_back({LogLevel::warning, change + " needs a restart; not applied"});
    }
  }
  return plan;
}

std::vector<std::string_view> reload_setting_names() {
  std::vector<std::string_view> names;
  for (const Setting& s : settings())
    names.push_back(s.name);
  return names;
}

}  // namespace rngpool::server
