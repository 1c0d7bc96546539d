#include "host/options.hpp"

#include "entropy/entropy_service.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/program_options.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <system_error>

namespace rngpool::server {

namespace po = boost::program_options;

namespace {

// ---------------------------------------------------------------------------
// Validation
//
// Values arrive as strings and are converted here rather than by
// Program_options' lexical_cast, so every refusal reads the same way:
// "--option must be <what it accepts>, got <value>".
// ---------------------------------------------------------------------------

struct OptionError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void refuse(std::string_view option, std::string_view accepted, std::string_view got) {
  std::ostringstream message;
  message << "--" << option << " must be " << accepted << ", got " << (got.empty() ? "''" : got);
  throw OptionError(message.str());
}

std::optional<std::uint64_t> parse_integer(std::string_view text, int base = 10) {
  std::uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (error != std::errc{} || end != text.data() + text.size() || text.empty())
    return std::nullopt;
  return value;
}

std::optional<double> parse_decimal(std::string_view text) {
  double value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size() || text.empty() || !std::isfinite(value))
    return std::nullopt;
  return value;
}

std::uint64_t integer_in(std::string_view option, std::string_view text, std::uint64_t min,
                         std::uint64_t max) {
  auto value = parse_integer(text);
  if (!value || *value < min || *value > max)
    refuse(option, "an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]", text);
  return *value;
}

// A byte count, optionally with a binary K or M suffix in either case ("64K", "1m").
std::uint32_t byte_count_in(std::string_view option, std::string_view text, std::uint32_t min,
                            std::uint32_t max) {
  std::uint64_t scale = 1;
  std::string_view digits = text;
  if (!digits.empty() && (digits.back() == 'K' || digits.back() == 'k'))
    scale = 1024;
  if (!digits.empty() && (digits.back() == 'M' || digits.back() == 'm'))
    scale = 1024 * 1024;
  if (scale != 1)
    digits.remove_suffix(1);
  auto value = parse_integer(digits);
  if (!value || *value > max / scale || *value * scale < min)
    refuse(option,
           "a byte count in [" + std::to_string(min) + ", " + std::to_string(max) +
               "] (suffix K or M allowed)",
           text);
  return static_cast<std::uint32_t>(*value * scale);
}

// The floor is the entropy service's (kMinEntropyPerByte): below it the
// hwrng could never enter the key, and the bytes a key needs would leave
// size_t's range (issue 9 items 7, 15).
double entropy_in(std::string_view option, std::string_view text) {
  auto value = parse_decimal(text);
  if (!value || *value < kMinEntropyPerByte || *value > 8.0)
    refuse(option, "in [0.001, 8]", text);
  return *value;
}

std::chrono::milliseconds seconds_in(std::string_view option, std::string_view text, double min,
                                     double max) {
  auto value = parse_decimal(text);
  if (!value || *value < min || *value > max) {
    std::ostringstream accepted;
    accepted << "a number of seconds in [" << min << ", " << max << "]";
    refuse(option, accepted.str(), text);
  }
  return std::chrono::milliseconds(std::llround(*value * 1000.0));
}

mode_t mode_in(std::string_view option, std::string_view text) {
  auto value = parse_integer(text, 8);
  if (!value || *value > 0777)
    refuse(option, "an octal mode in [0000, 0777]", text);
  return static_cast<mode_t>(*value);
}

// bind(2) needs the path and its NUL in sockaddr_un::sun_path.
std::string socket_path_in(std::string_view option, std::string_view text) {
  constexpr std::size_t max = sizeof(sockaddr_un::sun_path) - 1;
  if (text.empty() || text.size() > max)
    refuse(option, "a path of 1 to " + std::to_string(max) + " bytes", text);
  return std::string(text);
}

// The EGD socket: a path like --socket's, or 'none' (the default).
std::string egd_socket_in(std::string_view option, std::string_view text) {
  return text == "none" ? std::string() : socket_path_in(option, text);
}

std::string hwrng_in(std::string_view option, std::string_view text) {
  if (text.empty())
    refuse(option, "a path or 'none'", text);
  return text == "none" ? std::string() : std::string(text);
}

// PORT alone means loopback: the metrics reach the network only when the
// operator names an address.  IPv6 literals go in brackets ("[::1]:PORT").
MetricsListen metrics_listen_in(std::string_view option, std::string_view text) {
  constexpr std::string_view accepted = "PORT, ADDR:PORT or [ADDR6]:PORT with an IP literal and a port in [0, 65535]";
  MetricsListen listen;
  std::string_view port = text;
  if (const auto colon = text.rfind(':'); colon != std::string_view::npos) {
    std::string_view address = text.substr(0, colon);
    port = text.substr(colon + 1);
    const bool bracketed = address.size() > 2 && address.front() == '[' && address.back() == ']';
    if (bracketed)
      address = address.substr(1, address.size() - 2);
    listen.address = std::string(address);
    in6_addr parsed{};
    const int family = bracketed ? AF_INET6 : AF_INET;
    if (::inet_pton(family, listen.address.c_str(), &parsed) != 1)
      refuse(option, accepted, text);
  }
  const auto number = parse_integer(port);
  if (!number || *number > 65535)
    refuse(option, accepted, text);
  listen.port = static_cast<std::uint16_t>(*number);
  return listen;
}

LogLevel log_level_in(std::string_view option, std::string_view text) {
  auto level = log_level_from_name(text);
  if (!level)
    refuse(option, "one of error, warning, info, debug", text);
  return *level;
}

// ---------------------------------------------------------------------------
// Access lists
//
// --allow-user and --allow-group take names as an administrator writes them,
// or numeric ids as they are, separated by commas (spaces around them are
// fine: a config file line invites them).  A name that resolves to nothing
// stops the daemon like any bad value: a typo would otherwise lock out the
// very clients it was meant to let in, and show only when they complain.
// So does an id the daemon's user namespace cannot tell apart
// (access_policy.hpp).
// ---------------------------------------------------------------------------

struct IdList {
  IdKind kind;
  const char* accepted;  // what refuse() says the option takes
  const char* id_name;   // "uid" or "gid"
};

constexpr IdList kUsers{IdKind::user, "names of existing users or numeric uids, separated by commas", "uid"};
constexpr IdList kGroups{IdKind::group, "names of existing groups or numeric gids, separated by commas", "gid"};

std::string_view trimmed(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos)
    return {};
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

std::vector<std::string_view> comma_separated(std::string_view text) {
  std::vector<std::string_view> items;
  for (;;) {
    const auto comma = text.find(',');
    items.push_back(trimmed(text.substr(0, comma)));
    if (comma == std::string_view::npos)
      return items;
    text.remove_prefix(comma + 1);
  }
}

// 4294967295 is (uid_t) -1, which means "no id" to the system calls.
std::uint32_t id_in(std::string_view option, std::string_view item, const IdList& list) {
  if (item.find_first_not_of("0123456789") == std::string_view::npos) {
    auto id = parse_integer(item);
    if (!id || *id >= 0xFFFF'FFFFu)
      refuse(option, list.accepted, item);
    return static_cast<std::uint32_t>(*id);
  }
  std::optional<std::uint32_t> id;
  try {
    id = id_of_name(list.kind, std::string(item));
  } catch (const std::system_error& e) {
    throw OptionError("--" + std::string(option) + ": " + e.what());
  }
  if (!id)
    refuse(option, list.accepted, item);
  return *id;
}

void check_visible(std::string_view option, std::string_view item, std::uint32_t id, const IdList& list) {
  std::ostringstream message;
  message << "--" << option << " " << item << " is " << list.id_name << " " << id;
  switch (id_visibility(list.kind, id)) {
    case IdVisibility::visible:
      return;
    case IdVisibility::unmapped:
      message << ", which rngpoold's user namespace does not map (systemd PrivateUsers=?): such a client shows up "
              << "as " << list.id_name << " " << overflow_id(list.kind) << ", so it could never match";
      break;
    case IdVisibility::overflow:
      message << ", the id rngpoold's user namespace shows for every client it does not map (systemd "
              << "PrivateUsers=?): listing it would let them all in";
      break;
  }
  throw OptionError(message.str());
}

std::vector<std::uint32_t> ids_in(std::string_view option, std::string_view text, const IdList& list) {
  std::vector<std::uint32_t> ids;
  for (std::string_view item : comma_separated(text)) {
    if (item.empty())
      refuse(option, list.accepted, text);
    const std::uint32_t id = id_in(option, item, list);
    check_visible(option, item, id, list);
    ids.push_back(id);
  }
  return ids;
}

// ---------------------------------------------------------------------------
// The option table
//
// One description serves --help, the command line and the config file, so
// the three can never disagree.  Defaults live in struct Options; the help
// text repeats them with each option's range.
// ---------------------------------------------------------------------------

po::options_description service_options() {
  po::options_description d("Options (also valid as 'key = value' lines in the config file)", 80, 40);
  auto text = [] { return po::value<std::string>(); };
  d.add_options()
    ("socket", text()->value_name("PATH"),
     "Unix socket to listen on (default /run/rngpool/rngpool.sock; at most 107 bytes). "
     "Ignored under systemd socket activation.")
    ("socket-mode", text()->value_name("MODE"),
     "Permissions of the socket, octal 0000..0777 (default 0666), whatever the umask.")
    ("egd-socket", text()->value_name("PATH|none"),
     "Also listen on PATH for the EGD protocol, as QEMU's rng-egd and libvirt's egd "
     "backend speak it (default none; at most 107 bytes; the mode is --socket-mode's). "
     "Under socket activation the socket named 'egd' takes its place.")
    ("hwrng", text()->value_name("PATH|none"),
     "Hardware RNG to read, or 'none' to run on getrandom(2) alone (default /dev/hwrng). "
     "A file or FIFO works too.")
    ("require-hwrng", po::value<bool>()->zero_tokens()->implicit_value(true)->value_name(""),
     "Refuse GET_RANDOM with HWRNG_UNAVAILABLE unless the hwrng is healthy and has "
     "contributed to the key (default off; in the config file: require-hwrng = true).")
    ("hwrng-entropy", text()->value_name("H"),
     "Claimed min-entropy per hwrng byte in bits, in [0.001, 8] (default 6). "
     "Sets the health-test cutoffs.")
    ("hwrng-retry", text()->value_name("S"),
     "Seconds between attempts to open an hwrng that is absent or unreadable, "
     "0.1..3600 (default 30).")
    ("reseed-interval", text()->value_name("S"),
     "Seconds between reseeds, integer 1..86400 (default 60).")
    ("max-request", text()->value_name("BYTES"),
     "Largest GET_RANDOM/HEX/BASE64 request, 1..268435456, K or M suffix allowed "
     "(default 1M); larger ones get TOO_LARGE.")
    ("max-connections", text()->value_name("N"),
     "Simultaneous clients, 1..65536 (default 1024); further connections get BUSY, "
     "are closed and counted.")
    ("max-connections-per-uid", text()->value_name("N"),
     "Simultaneous clients of one uid, 1..65536 (default: a quarter of --max-connections, "
     "at least 1); root is not limited. Further ones get BUSY and are closed.")
    ("max-output-memory", text()->value_name("BYTES"),
     "Memory for replies being written, all clients together, 1M..4095M, K or M suffix "
     "allowed (default 32M); past it a reply waits for room.")
    ("idle-timeout", text()->value_name("S"),
     "Seconds a client may take to send a complete request, 0.1..86400 (default 60); "
     "also bounds the wait for the first seed.")
    ("log-level", text()->value_name("LEVEL"),
     "error, warning, info or debug (default info).")
    ("allow-user", text()->value_name("USER[,USER...]"),
     "Users who may ask, by name or numeric uid (default none; with neither this nor "
     "--allow-group, anyone who can open the socket may ask). Others get PERMISSION_DENIED "
     "for random bytes, STATUS and HEALTH; PING still answers.")
    ("allow-group", text()->value_name("GROUP[,GROUP...]"),
     "Groups whose members may ask, primary or supplementary, by name or numeric gid "
     "(default none).")
    ("metrics-listen", text()->value_name("[ADDR:]PORT"),
     "Serve Prometheus metrics at http://ADDR:PORT/metrics, port 0..65535 (default off; "
     "ADDR defaults to 127.0.0.1; IPv6 as [ADDR]:PORT). Under systemd, "
     "rngpoold-metrics.socket passes it instead.");
  return d;
}

po::options_description command_line_only() {
  po::options_description d("Command line only", 80, 40);
  d.add_options()
    ("config", po::value<std::string>()->value_name("FILE"),
     "Read options from FILE (default /etc/rngpool/rngpoold.conf when it exists; "
     "one that exists but cannot be read stops the daemon).")
    ("help", "Print this help and exit.")
    ("version", "Print the version and exit.");
  return d;
}

std::string help_text(const po::options_description& all) {
  std::ostringstream out;
  out << "Usage: rngpoold [OPTIONS]\n"
         "\n"
         "rngpoold serves health-tested random bytes on a Unix socket: a ChaCha20 pool\n"
         "keyed from getrandom(2) and, when present, a hardware RNG that passes the\n"
         "SP 800-90B continuous health tests.  Try: printf 'HEX 32\\n' | nc -U -N SOCKET\n"
         "\n"
      << all
      << "\n"
         "SIGHUP re-reads the config file and applies what can change at run time.\n"
         "\n"
         "Exit status: 0 after SIGTERM/SIGINT/SIGQUIT, 1 when the daemon cannot start\n"
         "(socket in use, bind failure), 2 for a bad option or config value, a config\n"
         "file that exists but cannot be read, or a socket directory other users may\n"
         "write.\n";
  return out.str();
}

// ---------------------------------------------------------------------------
// Reading the config file
//
// Fail closed (issue 9 §1): a config file that exists but cannot be read
// holds settings -- an access list, a lower limit -- that the daemon would
// otherwise run without, silently.  So only "the default file does not
// exist" (ENOENT) means "no config"; any other failure to open or read it,
// and any failure at all for a --config file, stops the daemon naming the
// file and the error.  O_NONBLOCK keeps a FIFO from hanging the start (it
// is refused: what it held would be gone at the next reload); a character
// device is allowed for --config /dev/null, which skips the default file.
// ---------------------------------------------------------------------------

constexpr std::size_t kMaxConfigBytes = 1 << 20;

[[noreturn]] void unreadable(const std::string& path, std::string_view why) {
  throw OptionError("cannot read config file " + path + ": " + std::string(why));
}

std::string read_all(int fd, const std::string& path) {
  std::string text;
  std::array<char, 4096> block{};
  for (;;) {
    const ssize_t n = ::read(fd, block.data(), block.size());
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      unreadable(path, errno_text(errno));
    if (n == 0)
      return text;
    text.append(block.data(), static_cast<std::size_t>(n));
    if (text.size() > kMaxConfigBytes)
      unreadable(path, "larger than 1 MiB");
  }
}

// The file's text, or nullopt when `missing_is_fine` and it does not exist.
std::optional<std::string> config_text(const std::string& path, bool missing_is_fine) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0 && errno == ENOENT && missing_is_fine)
    return std::nullopt;
  if (fd < 0)
    unreadable(path, errno_text(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0)
    unreadable(path, errno_text(errno));
  if (S_ISDIR(st.st_mode))
    unreadable(path, errno_text(EISDIR));
  if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode))
    unreadable(path, "not a regular file");
  return read_all(fd, path);
}

void read_config_file(const std::string& path, const std::string& text, const po::options_description& keys,
                      po::variables_map& vm) {
  std::istringstream file(text);
  try {
    po::store(po::parse_config_file(file, keys, false), vm);
  } catch (const po::error& e) {
    throw OptionError(path + ": " + e.what());
  }
}

void read_config(po::variables_map& vm, const std::string& default_config, const po::options_description& keys) {
  const bool named = vm.count("config") != 0;
  const std::string path = named ? vm["config"].as<std::string>() : default_config;
  if (auto text = config_text(path, !named))
    read_config_file(path, *text, keys, vm);
}

template <typename T, typename Convert>
void take(const po::variables_map& vm, const char* key, T& field, Convert convert) {
  if (vm.count(key))
    field = convert(key, vm[key].as<std::string>());
}

Options to_options(const po::variables_map& vm) {
  Options o;
  take(vm, "socket", o.socket_path, socket_path_in);
  take(vm, "socket-mode", o.socket_mode, mode_in);
  take(vm, "egd-socket", o.egd_socket_path, egd_socket_in);
  if (!o.egd_socket_path.empty() && o.egd_socket_path == o.socket_path)
    refuse("egd-socket", "a path other than --socket's", o.egd_socket_path);
  take(vm, "hwrng", o.hwrng_path, hwrng_in);
  take(vm, "hwrng-entropy", o.hwrng_entropy, entropy_in);
  take(vm, "hwrng-retry", o.hwrng_retry, [](std::string_view k, std::string_view v) {
    return seconds_in(k, v, 0.1, 3600);
  });
  take(vm, "reseed-interval", o.reseed_interval, [](std::string_view k, std::string_view v) {
    return std::chrono::seconds(integer_in(k, v, 1, 86400));
  });
  take(vm, "max-request", o.max_request, [](std::string_view k, std::string_view v) {
    return byte_count_in(k, v, 1, 256u << 20);
  });
  take(vm, "max-connections", o.max_connections, [](std::string_view k, std::string_view v) {
    return static_cast<std::uint32_t>(integer_in(k, v, 1, 65536));
  });
  o.max_connections_per_uid = std::max<std::uint32_t>(1, o.max_connections / 4);
  take(vm, "max-connections-per-uid", o.max_connections_per_uid, [](std::string_view k, std::string_view v) {
    return static_cast<std::uint32_t>(integer_in(k, v, 1, 65536));
  });
  take(vm, "max-output-memory", o.max_output_memory, [](std::string_view k, std::string_view v) {
    return std::uint64_t{byte_count_in(k, v, 1u << 20, 4095u << 20)};
  });
  take(vm, "idle-timeout", o.idle_timeout, [](std::string_view k, std::string_view v) {
    return seconds_in(k, v, 0.1, 86400);
  });
  take(vm, "log-level", o.log_level, log_level_in);
  take(vm, "allow-user", o.access.users, [](std::string_view k, std::string_view v) {
    return ids_in(k, v, kUsers);
  });
  take(vm, "allow-group", o.access.groups, [](std::string_view k, std::string_view v) {
    return ids_in(k, v, kGroups);
  });
  take(vm, "metrics-listen", o.metrics_listen, [](std::string_view k, std::string_view v) {
    return std::optional(metrics_listen_in(k, v));
  });
  if (vm.count("require-hwrng"))
    o.require_hwrng = vm["require-hwrng"].as<bool>();
  return o;
}

}  // namespace

std::variant<Options, OptionsExit> parse_options(const std::vector<std::string>& args,
                                                 const std::string& default_config) {
  po::options_description keys = service_options();
  po::options_description all;
  all.add(keys).add(command_line_only());
  try {
    po::variables_map vm;
    auto style = po::command_line_style::unix_style & ~po::command_line_style::allow_guessing;
    po::positional_options_description no_positionals;
    po::store(po::command_line_parser(args).options(all).positional(no_positionals).style(style).run(), vm);
    if (vm.count("help"))
      return OptionsExit{0, help_text(all)};
    if (vm.count("version"))
      return OptionsExit{0, "rngpoold " RNGPOOL_VERSION "\n"};
    read_config(vm, default_config, keys);
    return to_options(vm);
  } catch (const po::error& e) {
    return OptionsExit{2, std::string("rngpoold: ") + e.what() + " (see rngpoold --help)\n"};
  } catch (const OptionError& e) {
    return OptionsExit{2, std::string("rngpoold: ") + e.what() + "\n"};
  }
}

}  // namespace rngpool::server
