// STATUS: every key the protocol promises, and health cutoffs equal to the core's.
#include "core/health.hpp"
#include "robustness_support.hpp"

#include <linux/capability.h>

#include <catch2/catch.hpp>

using namespace rngpool;
using namespace rngpool::test;
using rngpool::test::robustness::health;

namespace {

constexpr const char* kRequiredKeys[] = {
    "state",          "health",         "hwrng",          "hwrng_state",     "hwrng_entropy_per_byte", "rct_cutoff_intermittent",
    "rct_cutoff_permanent", "apt_cutoff_intermittent", "apt_cutoff_permanent", "apt_window",
    "hwrng_bytes_tested",   "hwrng_bytes_used",        "rct_failures",         "apt_failures",
    "reseeds",        "requests_served", "bytes_served",    "clients_connected",      "uptime_s",
    "version",
};

void check_cutoffs(const protocol::StatusReport& report, double entropy_per_byte) {
  auto expected = core::compute_cutoffs(entropy_per_byte);
  CHECK(status_number(report, "rct_cutoff_intermittent") == expected.rct_intermittent);
  CHECK(status_number(report, "rct_cutoff_permanent") == expected.rct_permanent);
  CHECK(status_number(report, "apt_cutoff_intermittent") == expected.apt_intermittent);
  CHECK(status_number(report, "apt_cutoff_permanent") == expected.apt_permanent);
  CHECK(status_number(report, "apt_window") == expected.apt_window);
  CHECK(std::stod(status_value(report, "hwrng_entropy_per_byte")) == Approx(entropy_per_byte));
}

}  // namespace

TEST_CASE("STATUS has every documented key", "[status]") {
  TestDaemon daemon;
  auto report = status_report(daemon.socket_path());
  for (const char* key : kRequiredKeys) {
    CAPTURE(key);
    CHECK(protocol::find_value(report, key).has_value());
  }
  CHECK(status_value(report, "version") == RNGPOOL_VERSION);
  CHECK(status_value(report, "hwrng") == (daemon.dir() / "hwrng").native());
}

// librngpool's health() reads the key, so it must say what HEALTH says.
TEST_CASE("STATUS health is the verdict the text command HEALTH gives", "[status]") {
  TestDaemon healthy;
  CHECK(status_value(status_report(healthy.socket_path()), "health") == "OK");
  CHECK(health(healthy.socket_path()) == "OK");

  TestDaemon without_hwrng({.hwrng = HwrngFeed::none});
  const auto verdict = status_value(status_report(without_hwrng.socket_path()), "health");
  CHECK_THAT(verdict, Catch::StartsWith("DEGRADED hwrng absent"));
  CHECK(verdict == health(without_hwrng.socket_path()));
}

TEST_CASE("STATUS cutoffs are the core's for the default entropy", "[status]") {
  TestDaemon daemon;
  check_cutoffs(status_report(daemon.socket_path()), core::kDefaultEntropyPerByte);
}

TEST_CASE("STATUS cutoffs follow --hwrng-entropy", "[status]") {
  TestDaemon daemon({.args = {"--hwrng-entropy", "3.5"}});
  check_cutoffs(status_report(daemon.socket_path()), 3.5);
}

TEST_CASE("STATUS counts what was served", "[status]") {
  TestDaemon daemon;
  TestConnection connection(daemon.socket_path());
  auto before = status_report(connection);
  REQUIRE(get_random(connection, 1000).payload.size() == 1000);
  REQUIRE(get_random(connection, 24).payload.size() == 24);
  auto after = status_report(connection);
  CHECK(status_number(after, "requests_served") - status_number(before, "requests_served") == 2);
  CHECK(status_number(after, "bytes_served") - status_number(before, "bytes_served") == 1024);
  CHECK(status_number(after, "reseeds") >= 1);
}

TEST_CASE("STATUS with --hwrng none reports the hwrng absent", "[status]") {
  TestDaemon daemon({.hwrng = HwrngFeed::none});
  auto report = status_report(daemon.socket_path());
  CHECK(status_value(report, "hwrng") == "none");
  CHECK(status_value(report, "hwrng_state") == "absent");
  CHECK(status_number(report, "hwrng_bytes_used") == 0);
}

TEST_CASE("STATUS shows health-tested hwrng bytes from a healthy FIFO", "[status]") {
  TestDaemon daemon;
  protocol::StatusReport report;
  bool used = eventually([&] {
    report = status_report(daemon.socket_path());
    return status_value(report, "hwrng_state") == "ok" && status_number(report, "hwrng_bytes_used") > 0;
  });
  INFO(protocol::format_status_report(report));
  CHECK(used);
  CHECK(status_number(report, "hwrng_bytes_tested") >= status_number(report, "hwrng_bytes_used"));
  CHECK(status_number(report, "rct_failures") == 0);
  CHECK(status_number(report, "apt_failures") == 0);
}

// Issue 9 item 12.  Root's CAP_IPC_LOCK would lift RLIMIT_MEMLOCK, so the
// daemon starts without it, under a limit of 0 (privileges.hpp).
TEST_CASE("key memory that cannot be locked is logged once and makes HEALTH DEGRADED", "[status]") {
  auto wrapper = with_no_memlock();
  for (auto& word : without_capabilities({"ipc_lock"})) wrapper.push_back(word);
  TestDaemon daemon({.wrapper = wrapper});
  REQUIRE_FALSE(has_effective_capability(daemon.pid(), CAP_IPC_LOCK));
  auto report = robustness::status_when(daemon.socket_path(), [](const protocol::StatusReport& r) {
    return status_value(r, "hwrng_state") == "ok";
  });
  INFO(protocol::format_status_report(report) << daemon.log());
  CHECK(status_value(report, "hwrng_state") == "ok");
  CHECK(status_value(report, "key_memory_locked") == "no");
  CHECK(status_value(report, "state") == "degraded");
  const std::string expected =
      "DEGRADED key memory not locked: mlock(2) failed with RLIMIT_MEMLOCK at 0 bytes, so key pages may be "
      "swapped to disk";
  CHECK(status_value(report, "health") == expected);
  CHECK(health(daemon.socket_path()) == expected);
  const auto log = daemon.log();
  const std::string warning = "warning: key memory not locked";
  auto first = log.find(warning);
  CHECK(first != std::string::npos);
  CHECK(log.find(warning, first + 1) == std::string::npos);
}

TEST_CASE("key memory is locked in an ordinary start", "[status]") {
  TestDaemon daemon;
  CHECK(status_value(status_report(daemon.socket_path()), "key_memory_locked") == "yes");
  CHECK_THAT(daemon.log(), !Catch::Contains("key memory not locked"));
}
