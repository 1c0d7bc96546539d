// An hwrng that is absent or unreadable is retried and picked up without a
// restart (issue 10 §1), and STATUS, HEALTH and systemd say what a request
// gets meanwhile, --require-hwrng included (issue 9 items 7 and 15).
//
// Unreadable is EACCES, the error a wrong udev rule gives: a FIFO at mode
// 0000, with the daemon started without CAP_DAC_OVERRIDE and
// CAP_DAC_READ_SEARCH (the tests run as root, which would open it anyway).
#include "robustness_support.hpp"

#include <linux/capability.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <thread>

using namespace rngpool;
using namespace rngpool::test;
using namespace rngpool::test::robustness;
using namespace std::chrono_literals;
using protocol::Status;

namespace {

constexpr const char* kRetry = "0.2";  // --hwrng-retry, seconds

protocol::StatusReport report_when(const TestDaemon& daemon, const std::string& key, const std::string& value,
                                   std::chrono::milliseconds timeout = 10s) {
  auto report = status_when(
      daemon.socket_path(), [&](const protocol::StatusReport& r) { return status_value(r, key) == value; }, timeout);
  INFO(protocol::format_status_report(report) << daemon.log());
  REQUIRE(status_value(report, key) == value);
  return report;
}

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t count = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++count;
  return count;
}

// Picked up: the start-up test ran on the new source before its bytes
// counted, and they are in the key.
void check_recovered(const TestDaemon& daemon) {
  auto report = report_when(daemon, "hwrng_in_key", "yes", 20s);
  INFO(protocol::format_status_report(report) << daemon.log());
  CHECK(status_value(report, "hwrng_state") == "ok");
  CHECK(status_value(report, "hwrng_read_error") == "none");
  CHECK(status_number(report, "hwrng_bytes_used") > 0);
  CHECK(status_number(report, "hwrng_bytes_used") <= status_number(report, "hwrng_bytes_tested") - 1024);
  CHECK(status_value(report, "state") == "ready");
  CHECK(health(daemon.socket_path()) == "OK");
  CHECK_THAT(daemon.log(), Catch::Contains("readable again; its start-up test runs again"));
}

}  // namespace

TEST_CASE("an hwrng path that appears later is picked up without a restart", "[fault][hwrng][recovery]") {
  TempDir dir("rngpool-late");
  const auto path = dir.path() / "hwrng";
  TestDaemon daemon(reading_hwrng(path, {"--hwrng-retry", kRetry}));
  auto absent = report_when(daemon, "hwrng_state", "absent");
  CHECK(status_value(absent, "hwrng_read_error") == "No such file or directory");
  CHECK(status_value(absent, "hwrng_retry_s") == kRetry);
  CHECK(health(daemon.socket_path()) ==
        "DEGRADED hwrng absent: No such file or directory (retried every 0.2 s); serving from getrandom(2) alone");
  std::this_thread::sleep_for(600ms);  // a few retries

  // The FIFO appears with its writer attached (made under another name),
  // so no retry can meet it without one.
  FifoFeeder feeder(dir.path() / "staging", FifoFeeder::random_bytes());
  std::filesystem::rename(dir.path() / "staging", path);
  check_recovered(daemon);

  // Logged once, then counted.
  auto report = status_report(daemon.socket_path());
  CHECK(status_number(report, "hwrng_failed_attempts") >= 2);
  CHECK(occurrences(daemon.log(), "cannot open hwrng") == 1);
}

TEST_CASE("an hwrng that cannot be opened is unreadable, named, and recovers once fixed", "[fault][hwrng][recovery]") {
  TempDir dir("rngpool-eacces");
  FifoFeeder feeder(dir.path() / "hwrng", FifoFeeder::random_bytes());
  std::filesystem::permissions(feeder.path(), std::filesystem::perms::none);
  const bool strict = GENERATE(false, true);
  CAPTURE(strict);
  auto config = reading_hwrng(feeder.path(), {"--hwrng-retry", kRetry});
  if (strict) config.args.push_back("--require-hwrng");
  config.wrapper = without_capabilities({"dac_override", "dac_read_search"});
  NotifySocket notify(dir.path() / "notify");
  config.env = {notify.environment()};
  TestDaemon daemon(config);
  REQUIRE_FALSE(has_effective_capability(daemon.pid(), CAP_DAC_OVERRIDE));
  REQUIRE_FALSE(has_effective_capability(daemon.pid(), CAP_DAC_READ_SEARCH));

  auto report = report_when(daemon, "hwrng_state", "unreadable");
  INFO(protocol::format_status_report(report) << daemon.log());
  CHECK(status_value(report, "hwrng_read_error") == "Permission denied");
  const std::string hwrng = "hwrng unreadable: Permission denied (retried every 0.2 s)";
  TestConnection connection(daemon.socket_path());
  if (strict) {
    CHECK(status_value(report, "state") == "failed");
    CHECK(health(daemon.socket_path()) == "FAILED " + hwrng + "; --require-hwrng is set: GET_RANDOM refused");
    CHECK(get_random(connection, 32).header.status == Status::hwrng_unavailable);
  } else {
    CHECK(status_value(report, "state") == "degraded");
    CHECK(health(daemon.socket_path()) == "DEGRADED " + hwrng + "; serving from getrandom(2) alone");
    CHECK(get_random(connection, 32).payload.size() == 32);
  }
  CHECK_THAT(daemon.log(), Catch::Contains("cannot open hwrng " + feeder.path().native() + ": Permission denied"));
  // systemctl status shows the cause too.
  CHECK(notify.wait_for(std::string("STATUS=") + (strict ? "failed, " : "degraded, ") + hwrng).has_value());

  std::filesystem::permissions(feeder.path(), std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  check_recovered(daemon);
  auto served = get_random(connection, 32);
  CHECK(served.header.status == Status::ok);
  CHECK(served.payload.size() == 32);
}

// Item 7 (a): open(2) on a FIFO without a writer used to block the reader
// for ever while the daemon said `startup`, HEALTH OK and systemd READY=1.
TEST_CASE("a FIFO without a writer under --require-hwrng: FAILED, and systemd hears it", "[fault][hwrng][systemd]") {
  TempDir dir("rngpool-writerless");
  const auto path = dir.path() / "hwrng";
  REQUIRE(::mkfifo(path.c_str(), 0600) == 0);
  NotifySocket notify(dir.path() / "notify");
  auto config = reading_hwrng(path, {"--require-hwrng"});
  config.env = {notify.environment()};
  TestDaemon daemon(config);

  auto report = report_when(daemon, "hwrng_state", "exhausted");
  INFO(protocol::format_status_report(report) << daemon.log());
  CHECK(status_value(report, "state") == "failed");
  CHECK(health(daemon.socket_path()) == "FAILED hwrng exhausted; --require-hwrng is set: GET_RANDOM refused");
  CHECK_THAT(daemon.log(), Catch::Contains("end of file (a FIFO without a writer)"));
  TestConnection connection(daemon.socket_path());
  CHECK(get_random(connection, 32).header.status == Status::hwrng_unavailable);
  // READY=1 under --require-hwrng: the daemon has decided, and STATUS= says
  // it refuses.
  CHECK(notify.wait_for("READY=1").has_value());
  auto line = notify.wait_for("STATUS=failed");
  REQUIRE(line.has_value());
  CHECK_THAT(*line, Catch::StartsWith("STATUS=failed, hwrng exhausted, "));
}

// Item 7: a request waits while the hwrng runs its start-up test, so the
// daemon is still starting: HEALTH is not OK and READY=1 is not sent.
TEST_CASE("under --require-hwrng the daemon is starting until the hwrng is in the key", "[fault][hwrng][systemd]") {
  TempDir dir("rngpool-strict-slow");
  // 320 bytes/s: the 1024-byte start-up test takes about 3 s.
  FifoFeeder slow(dir.path() / "hwrng", FifoFeeder::random_bytes(), 100ms, 32);
  NotifySocket notify(dir.path() / "notify");
  auto config = reading_hwrng(slow.path(), {"--require-hwrng"});
  config.env = {notify.environment()};
  TestDaemon daemon(config);

  auto early = status_report(daemon.socket_path());
  INFO(protocol::format_status_report(early) << daemon.log());
  CHECK(status_value(early, "hwrng_state") == "startup");
  CHECK(status_value(early, "state") == "starting");
  CHECK(health(daemon.socket_path()) ==
        "DEGRADED starting: --require-hwrng is set and the hwrng has not passed its start-up test yet: GET_RANDOM "
        "waits for it");
  CHECK_FALSE(notify.wait_for("READY=1", 300ms).has_value());

  auto report = report_when(daemon, "hwrng_in_key", "yes", 20s);
  CHECK(status_value(report, "state") == "ready");
  CHECK(health(daemon.socket_path()) == "OK");
  auto ready = notify.wait_for("READY=1");
  REQUIRE(ready.has_value());
  CHECK(notify.wait_for("STATUS=ready, hwrng ok").has_value());
}

// Item 15: at the floor of --hwrng-entropy the first mix needs 256 / 0.001 =
// 256000 tested bytes, fewer than the reader gathers before it pauses; it
// happens once, when they are there.
TEST_CASE("at the --hwrng-entropy floor the hwrng enters the key once enough bytes passed", "[hwrng]") {
  TestDaemon daemon({.args = {"--hwrng-entropy", "0.001"}});
  auto report = report_when(daemon, "hwrng_in_key", "yes", 30s);
  INFO(protocol::format_status_report(report) << daemon.log());
  CHECK(status_number(report, "hwrng_bytes_used") >= 256000);
  CHECK(status_number(report, "reseeds_with_hwrng") >= 1);
  CHECK(occurrences(daemon.log(), "is now part of the key") == 1);
}
