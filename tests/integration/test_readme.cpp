// README's commands, run as written against a real daemon: a reader who
// copies them must get what the comments promise.  Only the socket path and
// the build directory are substituted (README assumes scripts/run's
// ./run/rngpool.sock and the build/ directory scripts/test builds first).
#include "rngpool/test/support.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <regex>
#include <sstream>
#include <vector>

using namespace rngpool::test;
namespace fs = std::filesystem;

namespace {

const fs::path kSourceDir = RNGPOOL_SOURCE_DIR;

std::string readme() { return read_text_file(kSourceDir / "README.md"); }

// The non-empty lines of the first ```sh block after `heading`.
std::vector<std::string> shell_block_after(const std::string& text, std::string_view heading) {
  std::vector<std::string> lines;
  std::istringstream in(fenced_block(text, heading, "sh"));
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(line);
  return lines;
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

}  // namespace

TEST_CASE("README: the commands under Querying the daemon work as written", "[readme]") {
  TestDaemon daemon;
  const auto lines = shell_block_after(readme(), "## Querying the daemon");
  REQUIRE(lines.size() >= 3);
  for (const auto& line : lines) {
    std::string command = line.substr(0, line.find("  #"));
    command = replace_all(command, "./run/rngpool.sock", shell_quote(daemon.socket_path()));
    if (command.rfind("build/", 0) == 0) command = std::string(RNGPOOL_BUILD_DIR) + command.substr(5);
    auto result = run_command("cd " + shell_quote(kSourceDir.native()) + " && " + command);
    INFO(line << "\nran: " << command << "\nexit " << result.exit_code << "\nstdout: " << result.out
              << "\nstderr: " << result.err);
    CHECK(result.exit_code == 0);
    CHECK_FALSE(result.out.empty());
    if (line.find("'HEX 32") != std::string::npos) CHECK(std::regex_match(result.out, std::regex("[0-9a-f]{64}\n")));
    if (line.find("'HEALTH") != std::string::npos) CHECK(std::regex_search(result.out, std::regex("^(OK|DEGRADED|FAILED)")));
  }
}

TEST_CASE("README: the quick start's two scripts exist and are executable", "[readme]") {
  const auto lines = shell_block_after(readme(), "## Quick start");
  REQUIRE(lines.size() == 2);
  for (const auto& line : lines) {
    const auto script = kSourceDir / line.substr(0, line.find(' '));
    INFO(line);
    CHECK(fs::is_regular_file(script));
    CHECK((fs::status(script).permissions() & fs::perms::owner_exec) != fs::perms::none);
  }
}
