// rngpoold's options: the command line and the config file (issue 3 §3).
//
// Every value is checked before anything starts, so a typo stops the daemon
// at once with a message naming the option and what it accepts (exit 2),
// instead of surfacing later as odd behaviour.  The same keys work on the
// command line (--key value) and in the config file (key = value); the
// command line wins.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "serve/access_policy.hpp"
#include "runtime/log.hpp"

namespace rngpool::server {

inline constexpr const char* kDefaultConfigPath = "/etc/rngpool/rngpoold.conf";

// --metrics-listen: where GET /metrics is served (README.md › Monitoring).
struct MetricsListen {
  std::string address = "127.0.0.1";  // an IPv4 or IPv6 literal
  std::uint16_t port = 0;              // 0: any free port (the log names it)
  bool operator==(const MetricsListen&) const = default;
};

struct Options {
  std::string socket_path = "/run/rngpool/rngpool.sock";
  mode_t socket_mode = 0666;
  std::string egd_socket_path;  // empty: no EGD socket (PROTOCOL.md §13)
  std::string hwrng_path = "/dev/hwrng";  // empty: no hwrng ("--hwrng none")
  bool require_hwrng = false;
  double hwrng_entropy = 6.0;  // claimed min-entropy per byte, [0.001, 8]
  std::chrono::milliseconds hwrng_retry{30'000};  // between attempts to open an absent or unreadable hwrng
  std::chrono::seconds reseed_interval{60};
  std::uint32_t max_request = 1u << 20;
  std::uint32_t max_connections = 1024;
  // Clients of one uid (root excepted); 0 until parsed: a quarter of
  // max_connections, at least 1.
  std::uint32_t max_connections_per_uid = 0;
  std::uint64_t max_output_memory = 32u << 20;  // all replies being written, bytes
  std::chrono::milliseconds idle_timeout{60'000};
  LogLevel log_level = LogLevel::info;
  AccessPolicy access;  // --allow-user, --allow-group: empty, everybody may ask
  std::optional<MetricsListen> metrics_listen;  // off unless given
};

// What to do instead of running: print `message` (stdout when code is 0,
// stderr otherwise) and exit with `code`.
struct OptionsExit {
  int code;
  std::string message;
};

std::variant<Options, OptionsExit> parse_options(const std::vector<std::string>& args,
                                                 const std::string& default_config = kDefaultConfigPath);

}  // namespace rngpool::server
