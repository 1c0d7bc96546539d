// The rngpool CLI: transcripts and exit codes against the real daemon.
#include "rngpool/test/support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <regex>

using namespace rngpool::test;

namespace {

// `rngpool ARGS` against `socket` (empty: no --socket).
CommandResult cli(const std::string& socket, const std::string& args, std::string_view input = {}) {
  const std::string binary = rngpool_cli_path();
  REQUIRE(!binary.empty());
  std::string command = "timeout 20 " + shell_quote(binary);
  if (!socket.empty()) command += " --socket " + shell_quote(socket);
  return run_command(command + " " + args, input);
}

bool matches(const std::string& text, const char* pattern) { return std::regex_match(text, std::regex(pattern)); }

}  // namespace

TEST_CASE("cli: token commands print one line each", "[client][cli]") {
  TestDaemon daemon;
  const auto& socket = daemon.socket_path();

  auto hex = cli(socket, "hex 16");
  CHECK(hex.exit_code == 0);
  CHECK(matches(hex.out, "[0-9a-f]{32}\n"));
  CHECK(matches(cli(socket, "hex").out, "[0-9a-f]{64}\n"));  // 32 bytes by default
  CHECK(matches(cli(socket, "base64 4").out, "[A-Za-z0-9+/]{6}==\n"));
  CHECK(matches(cli(socket, "urlsafe 16").out, "[A-Za-z0-9_-]{22}\n"));
  auto integer = cli(socket, "int 6");
  CHECK(integer.exit_code == 0);
  CHECK(matches(integer.out, "[0-5]\n"));
  CHECK(matches(cli(socket, "password --length 12 --alphabet digits").out, "[0-9]{12}\n"));
  CHECK(matches(cli(socket, "password --length=8 --alphabet lower --min-lower 8").out, "[a-z]{8}\n"));
  auto pass = cli(socket, "passphrase --words 3 --separator -");
  CHECK(pass.exit_code == 0);
  CHECK(matches(pass.out, "[a-z]+-[a-z]+-[a-z]+\n"));
}

TEST_CASE("cli: bytes are raw and streamed, and never sprayed on a terminal", "[client][cli]") {
  TestDaemon daemon;
  const std::string binary = shell_quote(rngpool_cli_path());
  const std::string socket = shell_quote(daemon.socket_path());
  auto count = run_command(binary + " --socket " + socket + " bytes 3000000 | wc -c");
  CHECK(count.exit_code == 0);
  CHECK(count.out == "3000000\n");
  // `script` gives the command a terminal for stdout.
  auto tty = run_command("script -qec " + shell_quote(rngpool_cli_path() + " --socket " + daemon.socket_path() + " bytes 16") +
                         " /dev/null");
  CHECK(tty.exit_code == 2);
  CHECK_THAT(tty.out, Catch::Contains("refusing to write binary to a terminal"));
  auto forced = run_command("script -qec " +
                            shell_quote(rngpool_cli_path() + " --socket " + daemon.socket_path() + " bytes 16 --force") +
                            " /dev/null");
  CHECK(forced.exit_code == 0);
}

TEST_CASE("cli: large bytes output shows progress when stderr is a terminal", "[client][cli]") {
  TestDaemon daemon;
  const std::string command = shell_quote(rngpool_cli_path()) + " --socket " + shell_quote(daemon.socket_path()) +
                              " bytes 8388608 > /dev/null";
  auto on_terminal = run_command("script -qec " + shell_quote(command) + " /dev/null");
  CHECK(on_terminal.exit_code == 0);
  CHECK_THAT(on_terminal.out, Catch::Contains("100%") && Catch::Contains("8.0/8.0 MiB"));
  auto on_pipe = run_command(command);  // stderr is a pipe here: no bar
  CHECK(on_pipe.exit_code == 0);
  CHECK(on_pipe.err.empty());
}

TEST_CASE("cli: status, health and ping", "[client][cli]") {
  TestDaemon daemon;
  auto status = cli(daemon.socket_path(), "status");
  CHECK(status.exit_code == 0);
  CHECK_THAT(status.out, Catch::Contains("state: "));
  CHECK_THAT(status.out, Catch::Contains("bytes_served: "));
  auto health = cli(daemon.socket_path(), "health");
  CHECK(health.exit_code == 0);
  CHECK(health.out == "OK\n");
  auto ping = cli(daemon.socket_path(), "ping");
  CHECK(ping.exit_code == 0);
  CHECK(matches(ping.out, "pong from .* in [0-9.]+ ms\n"));
}

TEST_CASE("cli: $RNGPOOL_SOCKET is used when --socket is not", "[client][cli]") {
  TestDaemon daemon;
  auto result = run_command("RNGPOOL_SOCKET=" + shell_quote(daemon.socket_path()) + " " +
                            shell_quote(rngpool_cli_path()) + " hex 4");
  CHECK(result.exit_code == 0);
  CHECK(matches(result.out, "[0-9a-f]{8}\n"));
}

TEST_CASE("cli: exit 1 when the daemon refuses", "[client][cli]") {
  TestDaemon daemon({.hwrng = HwrngFeed::none});
  auto refused = cli(daemon.socket_path(), "--require-hwrng hex 8");
  CHECK(refused.exit_code == 1);
  CHECK(refused.out.empty());
  CHECK_THAT(refused.err, Catch::Contains("HWRNG_UNAVAILABLE"));
  CHECK(cli(daemon.socket_path(), "hex 8").exit_code == 0);
}

TEST_CASE("cli: exit 3 with a clear message when there is no daemon", "[client][cli]") {
  TempDir dir("rngpool-cli");
  const std::string socket = (dir.path() / "rngpool.sock").native();
  auto result = cli(socket, "hex 8");
  CHECK(result.exit_code == 3);
  CHECK(result.err == "rngpool: cannot connect to " + socket +
                          ": No such file or directory \u2014 is rngpoold running?\n");
}

TEST_CASE("cli: usage errors exit 2, and --help documents the exit codes", "[client][cli]") {
  for (const char* args : {"", "frob", "hex x", "int", "int 0", "hex 8 --length 3", "password --min-digits 30",
                           "passphrase --wordlist /nonexistent", "--bogus", "hex 1 2"}) {
    INFO("rngpool " << args);
    auto result = cli("/nonexistent.sock", args);
    CHECK(result.exit_code == 2);
    CHECK_THAT(result.err, Catch::StartsWith("rngpool: "));
  }
  auto help = cli("", "--help");
  CHECK(help.exit_code == 0);
  for (const char* text : {"bytes N", "passphrase", "--require-hwrng", "0  success", "1  the daemon refused",
                           "2  usage error", "3  cannot connect"}) {
    CHECK_THAT(help.out, Catch::Contains(text));
  }
  auto version = cli("", "--version");
  CHECK(version.exit_code == 0);
  CHECK(version.out == std::string("rngpool ") + RNGPOOL_VERSION + "\n");
}

// Issue 9, item 6: rejection sampling ran for minutes (2 million requests)
// on this policy; the exact sampler answers at once, in a few requests.
TEST_CASE("cli: a password policy that few passwords meet finishes at once", "[client][cli]") {
  TestDaemon daemon;
  const auto requests_before = status_number(status_report(daemon.socket_path()), "requests_served");
  const auto start = std::chrono::steady_clock::now();
  auto result = cli(daemon.socket_path(), "password --length 303 --min-upper 101 --min-lower 101 --min-digits 101");
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
  REQUIRE(result.exit_code == 0);
  REQUIRE(matches(result.out, "[A-Za-z0-9]{303}\n"));
  const auto count = [&](char first, char last) {
    return std::count_if(result.out.begin(), result.out.end(), [&](char c) { return c >= first && c <= last; });
  };
  CHECK(count('A', 'Z') == 101);
  CHECK(count('a', 'z') == 101);
  CHECK(count('0', '9') == 101);
  const auto requests = status_number(status_report(daemon.socket_path()), "requests_served") - requests_before;
  CHECK(requests <= 4);  // the characters' batches, the shuffle's, and our own STATUS
  auto impossible = cli(daemon.socket_path(), "password --length 300 --min-upper 101 --min-lower 101 --min-digits 101");
  CHECK(impossible.exit_code == 2);
  CHECK_THAT(impossible.err, Catch::StartsWith("rngpool: password policy needs at least 303 characters of "
                                                "required classes but the length is 300\n"));
}
