// Parsing the rngpool command line.
//
// Options may come before or after the subcommand ("rngpool --socket S hex 8"
// and "rngpool hex 8 --socket S" alike), as "--opt value" or "--opt=value".
// Each option names the subcommands it belongs to, so a misplaced one is an
// error rather than silently ignored.
#include "arguments.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <string_view>
#include <vector>

namespace rngpool::cli {

namespace {

constexpr std::array<std::string_view, 11> kCommands{
    "bytes", "hex", "base64", "urlsafe", "int", "password", "passphrase", "status", "health", "ping", "watch"};

bool takes_count(std::string_view command) {
  return command == "bytes" || command == "hex" || command == "base64" || command == "urlsafe" ||
         command == "int";
}

std::uint64_t parse_number(std::string_view what, std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size()) {
    throw UsageError(std::string(what) + " must be a non-negative integer, not \"" +
                     std::string(text) + "\"");
  }
  return value;
}

std::string alphabet_named(std::string_view set) {
  const std::string upper(kUppercase), lower(kLowercase), digits(kDigits), symbols(kSymbols);
  if (set == "alnum") return upper + lower + digits;
  if (set == "letters") return upper + lower;
  if (set == "lower") return lower;
  if (set == "upper") return upper;
  if (set == "digits") return digits;
  if (set == "hex") return digits + "abcdef";
  if (set == "printable") return upper + lower + digits + symbols;
  return std::string(set);  // the characters themselves
}

// ---------------------------------------------------------------------------
// The option table
// ---------------------------------------------------------------------------

struct Option {
  std::string_view name;
  std::string_view command;  // empty: global
  bool takes_value;
  void (*apply)(Invocation&, std::string_view value);
};

std::size_t as_size(std::string_view what, std::string_view text) {
  return static_cast<std::size_t>(parse_number(what, text));
}

const std::array<Option, 15> kOptions{{
    {"--help", "", false, [](Invocation& in, std::string_view) { in.help = true; }},
    {"--version", "", false, [](Invocation& in, std::string_view) { in.version = true; }},
    {"--socket", "", true, [](Invocation& in, std::string_view v) { in.socket = v; }},
    {"--require-hwrng", "", false, [](Invocation& in, std::string_view) { in.require_hwrng = true; }},
    {"--force", "bytes", false, [](Invocation& in, std::string_view) { in.force = true; }},
    {"--length", "password", true,
     [](Invocation& in, std::string_view v) { in.policy.length = as_size("--length", v); }},
    {"--alphabet", "password", true,
     [](Invocation& in, std::string_view v) { in.policy.alphabet = alphabet_named(v); }},
    {"--min-upper", "password", true,
     [](Invocation& in, std::string_view v) { in.policy.min_upper = as_size("--min-upper", v); }},
    {"--min-lower", "password", true,
     [](Invocation& in, std::string_view v) { in.policy.min_lower = as_size("--min-lower", v); }},
    {"--min-digits", "password", true,
     [](Invocation& in, std::string_view v) { in.policy.min_digits = as_size("--min-digits", v); }},
    {"--min-symbols", "password", true,
     [](Invocation& in, std::string_view v) { in.policy.min_symbols = as_size("--min-symbols", v); }},
    {"--words", "passphrase", true,
     [](Invocation& in, std::string_view v) { in.words = as_size("--words", v); }},
    {"--wordlist", "passphrase", true, [](Invocation& in, std::string_view v) { in.wordlist = v; }},
    {"--separator", "passphrase", true, [](Invocation& in, std::string_view v) { in.separator = v; }},
    {"-h", "", false, [](Invocation& in, std::string_view) { in.help = true; }},
}};

const Option& find_option(std::string_view name) {
  for (const Option& option : kOptions) {
    if (option.name == name) return option;
  }
  throw UsageError("unknown option " + std::string(name));
}

}  // namespace

Invocation parse_arguments(int argc, char** argv) {
  Invocation in;
  std::vector<std::pair<const Option*, std::string>> options;
  std::vector<std::string_view> operands;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.size() < 2 || arg[0] != '-') {
      operands.push_back(arg);
      continue;
    }
    const auto equals = arg.find('=');
    const Option& option = find_option(arg.substr(0, equals));
    std::string value;
    if (equals != std::string_view::npos) {
      if (!option.takes_value) throw UsageError(std::string(option.name) + " takes no value");
      value = arg.substr(equals + 1);
    } else if (option.takes_value) {
      if (i + 1 >= argc) throw UsageError(std::string(option.name) + " needs a value");
      value = argv[++i];
    }
    options.emplace_back(&option, std::move(value));
  }
  if (!operands.empty()) in.command = operands.front();
  for (const auto& [option, value] : options) {
    if (!option->command.empty() && option->command != in.command) {
      throw UsageError(std::string(option->name) + " belongs to `rngpool " +
                       std::string(option->command) + "`");
    }
    option->apply(in, value);
  }
  if (in.help || in.version) return in;
  if (in.command.empty()) throw UsageError("no command given");
  if (std::find(kCommands.begin(), kCommands.end(), in.command) == kCommands.end()) {
    throw UsageError("unknown command \"" + in.command + "\"");
  }
  const std::size_t max_operands = takes_count(in.command) ? 2 : 1;
  if (operands.size() > max_operands) {
    throw UsageError("unexpected argument \"" + std::string(operands[max_operands]) + "\"");
  }
  if (operands.size() == 2) in.count = parse_number("N", operands[1]);
  if (in.command == "int" && !in.count) throw UsageError("int needs an upper bound N");
  if (in.command == "int" && *in.count == 0) throw UsageError("int N needs N >= 1");
  return in;
}

const char* help_text() {
  return R"(Usage: rngpool [OPTIONS] COMMAND [ARGS]
Random numbers, tokens and passwords from rngpoold, and the daemon's health.

Commands:
  bytes N          N raw random bytes to stdout (refuses a terminal without --force)
  hex [N]          N random bytes (default 32) as 2N lowercase hex digits
  base64 [N]       N random bytes (default 32) as padded base64
  urlsafe [N]      N random bytes (default 32) as unpadded base64url (Python's token_urlsafe)
  int N            a uniform integer in [0, N)
  password         a password meeting a policy, uniform among those that do:
                     --length L (20)  --alphabet SET (printable)
                     --min-upper K  --min-lower K  --min-digits K  --min-symbols K
                   SET is alnum, letters, lower, upper, digits, hex, printable,
                   or the characters themselves
  passphrase       words from a word list, uniform and independent:
                     --words N (6)  --wordlist FILE (/usr/share/dict/words)
                     --separator S (" ")
  status           the daemon's status report (key: value lines)
  health           the daemon's verdict: OK, DEGRADED <reason> or FAILED <reason>
  ping             check the daemon answers, and how fast
  watch            a live view of health, rates and counters, refreshed each second
                   (q or Ctrl-C quits; one line per second when not on a terminal)

Options:
  --socket PATH    the daemon's socket (default $RNGPOOL_SOCKET, else /run/rngpool/rngpool.sock)
  --require-hwrng  fail unless the hardware RNG is healthy and in the current key
  --force          (bytes) write binary to a terminal anyway
  -h, --help       this text
  --version        the version

Exit status:
  0  success (for health: the daemon is OK)
  1  the daemon refused (NOT_READY, HWRNG_UNAVAILABLE, ...; for health: DEGRADED or FAILED)
  2  usage error
  3  cannot connect to or talk to the daemon
  4  cannot write the output
)";
}

}  // namespace rngpool::cli
