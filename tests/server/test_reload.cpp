// What a SIGHUP reload takes (reload.hpp): run-time settings are taken, the
// others are named as needing a restart, each change is one line.
#include "host/reload.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <regex>
#include <set>
#include <string>

using namespace rngpool::server;

namespace {

Options parsed(const std::vector<std::string>& args) {
  auto result = parse_options(args, "/nonexistent/rngpoold.conf");
  REQUIRE(std::holds_alternative<Options>(result));
  return std::get<Options>(result);
}

std::vector<std::string> lines(const ReloadPlan& plan) {
  std::vector<std::string> texts;
  for (const auto& line : plan.report)
    texts.push_back(line.text);
  return texts;
}

}  // namespace

TEST_CASE("reload: nothing changed, nothing reported", "[server][reload]") {
  const Options running = parsed({"--max-request", "64"});
  const ReloadPlan plan = plan_reload(running, running);
  CHECK(plan.report.empty());
  CHECK(plan.in_force.max_request == 64);
}

TEST_CASE("reload: run-time settings are taken, one info line each", "[server][reload]") {
  const Options running = parsed({});
  const Options reread = parsed({"--log-level", "debug", "--allow-user", "0,1", "--allow-group", "0",
                                 "--max-request", "64K", "--max-connections", "10", "--idle-timeout", "0.5",
                                 "--reseed-interval", "5", "--max-output-memory", "8M"});
  const ReloadPlan plan = plan_reload(running, reread);
  // --max-connections-per-uid follows --max-connections when not given.
  CHECK(lines(plan) == std::vector<std::string>{
                           "log-level info -> debug", "allow-user none -> 0,1", "allow-group none -> 0",
                           "max-request 1048576 -> 65536", "max-connections 1024 -> 10",
                           "max-connections-per-uid 256 -> 2", "max-output-memory 33554432 -> 8388608",
                           "idle-timeout 60 s -> 0.5 s",
                           "reseed-interval 60 s -> 5 s"});
  CHECK(std::all_of(plan.report.begin(), plan.report.end(), [](const auto& l) { return l.level == LogLevel::info; }));
  const Options& o = plan.in_force;
  CHECK(o.log_level == LogLevel::debug);
  CHECK(o.access.users == std::vector<uid_t>{0, 1});
  CHECK(o.access.groups == std::vector<gid_t>{0});
  CHECK(o.max_request == 65536);
  CHECK(o.max_connections == 10);
  CHECK(o.idle_timeout == std::chrono::milliseconds(500));
  CHECK(o.reseed_interval == std::chrono::seconds(5));
}

TEST_CASE("reload: --egd-socket needs a restart", "[server][reload][egd]") {
  const ReloadPlan plan = plan_reload(parsed({}), parsed({"--egd-socket", "/run/rngpool/egd.sock"}));
  CHECK(lines(plan) == std::vector<std::string>{"egd-socket none -> /run/rngpool/egd.sock needs a restart; not applied"});
  CHECK(plan.in_force.egd_socket_path.empty());
}

TEST_CASE("reload: restart settings are named at warning level and kept", "[server][reload]") {
  const Options running = parsed({});
  const Options reread = parsed({"--socket", "/tmp/other.sock", "--socket-mode", "0600", "--hwrng", "none",
                                 "--hwrng-entropy", "4", "--require-hwrng", "--max-request", "64"});
  const ReloadPlan plan = plan_reload(running, reread);
  CHECK(lines(plan) == std::vector<std::string>{
                           "max-request 1048576 -> 64",
                           "socket /run/rngpool/rngpool.sock -> /tmp/other.sock needs a restart; not applied",
                           "socket-mode 0666 -> 0600 needs a restart; not applied",
                           "hwrng /dev/hwrng -> none needs a restart; not applied",
                           "hwrng-entropy 6 -> 4 needs a restart; not applied",
                           "require-hwrng false -> true needs a restart; not applied"});
  CHECK(plan.report.front().level == LogLevel::info);
  CHECK(std::all_of(plan.report.begin() + 1, plan.report.end(),
                    [](const auto& l) { return l.level == LogLevel::warning; }));
  const Options& o = plan.in_force;
  CHECK(o.max_request == 64);
  CHECK(o.socket_path == running.socket_path);
  CHECK(o.socket_mode == running.socket_mode);
  CHECK(o.hwrng_path == running.hwrng_path);
  CHECK(o.hwrng_entropy == running.hwrng_entropy);
  CHECK(o.require_hwrng == running.require_hwrng);
}

// A new option must say whether a reload takes it; without its row it would
// silently never change at run time.
TEST_CASE("reload: every option of --help has a row", "[server][reload]") {
  auto help = parse_options({"--help"});
  REQUIRE(std::holds_alternative<OptionsExit>(help));
  const std::string text = std::get<OptionsExit>(help).message;
  std::set<std::string> in_help;
  const std::regex option(R"(^  --([a-z-]+))", std::regex::multiline);
  for (auto it = std::sregex_iterator(text.begin(), text.end(), option); it != std::sregex_iterator(); ++it)
    in_help.insert((*it)[1]);
  for (const char* command_line_only : {"config", "help", "version"})
    REQUIRE(in_help.erase(command_line_only) == 1);
  const auto names = reload_setting_names();
  CHECK(in_help == std::set<std::string>(names.begin(), names.end()));
}
