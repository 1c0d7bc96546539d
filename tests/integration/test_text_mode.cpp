// The text protocol exactly as a person sees it through `nc -U -N`.
#include "rngpool/test/support.hpp"

#include <catch2/catch.hpp>

#include <regex>

using namespace rngpool;
using namespace rngpool::test;

namespace {

// One daemon for the whole file: each transcript is its own connection.
TestDaemon& shared_daemon() {
  static TestDaemon daemon;
  return daemon;
}

// When the daemon closes a connection with input still unread, the kernel
// reports ECONNRESET to nc, which then exits 1 after printing the replies.
enum class Close { clean, may_reset };

std::string transcript(std::string_view input, Close close = Close::clean) {
  auto result = nc_transcript(shared_daemon().socket_path(), input);
  INFO("nc stderr: " << result.err);
  REQUIRE((result.exit_code == 0 || (close == Close::may_reset && result.exit_code == 1)));
  return result.out;
}

bool matches(const std::string& text, const char* pattern) { return std::regex_match(text, std::regex(pattern)); }

}  // namespace

TEST_CASE("nc is installed", "[text]") {
  // scripts/deps.sh installs netcat-openbsd; without it these tests prove nothing.
  REQUIRE(run_command("command -v nc").exit_code == 0);
}

TEST_CASE("text PING answers PONG", "[text]") { CHECK(transcript("PING\n") == "PONG\n"); }

TEST_CASE("text HEX n gives 2n lowercase hex digits", "[text]") {
  auto out = transcript("HEX 32\n");
  CHECK(matches(out, "[0-9a-f]{64}\n"));
  CHECK(transcript("HEX 0\n") == "\n");
  CHECK(transcript("HEX 32\n") != out);
}

TEST_CASE("text BASE64 n gives padded base64 of n bytes", "[text]") {
  CHECK(matches(transcript("BASE64 32\n"), "[A-Za-z0-9+/]{43}=\n"));
  CHECK(matches(transcript("BASE64 3\n"), "[A-Za-z0-9+/]{4}\n"));
  CHECK(transcript("BASE64 0\n") == "\n");
}

TEST_CASE("text HEALTH is OK with a healthy hwrng", "[text]") {
  // The hwrng passes its start-up test on its own schedule.
  std::string last;
  bool ok = eventually([&] { return (last = transcript("HEALTH\n")) == "OK\n"; });
  INFO("last HEALTH reply: " << last);
  CHECK(ok);
}

TEST_CASE("text STATUS gives key: value lines, then an empty line", "[text]") {
  auto out = transcript("STATUS\n");
  REQUIRE(out.size() >= 2);
  CHECK(out.ends_with("\n\n"));
  auto report = protocol::parse_status_report(std::string_view(out).substr(0, out.size() - 1));
  REQUIRE(report.has_value());
  CHECK(status_value(*report, "hwrng") == (shared_daemon().dir() / "hwrng").native());
}

TEST_CASE("text HELP lists the commands and ends in an empty line", "[text]") {
  auto out = transcript("HELP\n");
  CHECK(out.ends_with("\n\n"));
  for (const char* command : {"PING", "HEX", "BASE64", "HEALTH", "STATUS", "HELP", "QUIT"})
    CHECK_THAT(out, Catch::Contains(command));
}

TEST_CASE("text QUIT closes after earlier replies", "[text]") {
  CHECK(transcript("PING\nQUIT\nPING\n", Close::may_reset) == "PONG\n");
}

TEST_CASE("text errors name the status and keep the connection", "[text]") {
  CHECK(transcript("FOO\nPING\n") == "ERR UNKNOWN_OPCODE unknown command 'FOO', try HELP\nPONG\n");
  const std::string needs_count = "ERR BAD_FRAME HEX needs a byte count\n";
  CHECK(transcript("HEX\nHEX x\nHEX 1 2\nHEX 4294967296\n") ==
        needs_count + needs_count + needs_count + needs_count);
  CHECK(transcript("PING 1\n") == "ERR BAD_FRAME PING takes no argument\n");
  CHECK_THAT(transcript("HEX 2000000\n"), Catch::StartsWith("ERR TOO_LARGE ") && Catch::EndsWith("\n"));
}

TEST_CASE("text commands are case-insensitive and take CRLF", "[text]") {
  // PROTOCOL.md §12.4, verbatim.
  auto out = transcript("ping\nHEX 8\r\nbase64 3\nfoo\nhex\n");
  CHECK(matches(out,
                "PONG\n"
                "[0-9a-f]{16}\n"
                "[A-Za-z0-9+/]{4}\n"
                "ERR UNKNOWN_OPCODE unknown command 'foo', try HELP\n"
                "ERR BAD_FRAME HEX needs a byte count\n"));
}

TEST_CASE("leading blanks and blank lines start text mode too", "[text]") {
  // PROTOCOL.md §1 and §10.1: a person may press Enter or indent first.
  for (std::string_view input : {" PING\n", "\tPING\n", "\nPING\n", "\r\nPING\n", "\n\n  \t\r\nping\n"}) {
    INFO("input: " << std::string(input));
    CHECK(transcript(input) == "PONG\n");
  }
}

TEST_CASE("an over-long text line is fatal", "[text]") {
  auto out = transcript(std::string(300, 'A') + "\nPING\n", Close::may_reset);
  CHECK(out == "ERR BAD_FRAME line longer than 256 bytes\n");
}
