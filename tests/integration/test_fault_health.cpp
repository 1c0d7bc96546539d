// hwrng fault injection, health-test side (issue 5 §3): a stuck, biased or
// briefly repeating source, fed from a file or FIFO the test writes.
//
// The daemon reads a file in 1 KiB blocks and tests every byte, so with
// crafted files the counters are exact: hwrng_bytes_tested says where the
// test tripped, and hwrng_bytes_used, which counts exactly the bytes handed
// to the input pool, shows that nothing of a failed block got there.  Start-up
// consumes the first 1024 passing bytes (block 1); blocks 2-4 of a healthy
// 4 KiB prefix are used: 3072 bytes.
#include "core/health.hpp"
#include "robustness_support.hpp"

#include <catch2/catch.hpp>

using namespace rngpool;
using namespace rngpool::test;
using namespace rngpool::test::robustness;
using protocol::Status;

namespace {

constexpr std::size_t kBlock = 1024;            // the daemon's read size
constexpr std::size_t kPrefix = 4 * kBlock;     // healthy: start-up, then 3 used blocks
constexpr std::size_t kPrefixUsed = kPrefix - core::kStartupSamples;
const core::HealthCutoffs kCutoffs = core::compute_cutoffs(core::kDefaultEntropyPerByte);

std::uint8_t other_than(std::uint8_t byte) { return static_cast<std::uint8_t>(byte ^ 0x80); }

// A file standing in for /dev/hwrng, and a daemon reading it.
struct FileHwrng {
  TempDir dir{"rngpool-fault"};
  std::filesystem::path path = dir.path() / "hwrng";

  explicit FileHwrng(std::span<const std::uint8_t> bytes) { write_file(path, bytes); }
  DaemonConfig config(std::vector<std::string> args = {}) const {
    return {.hwrng = HwrngFeed::path, .hwrng_path = path.native(), .args = std::move(args)};
  }
};

// Waits until the reader is done with the source (end of file or a permanent
// failure); the counters no longer move after that.
protocol::StatusReport settled_report(const TestDaemon& daemon) {
  auto report = status_when(daemon.socket_path(), [](const protocol::StatusReport& r) {
    auto state = status_value(r, "hwrng_state");
    return state == "exhausted" || state == "failed-permanent";
  });
  INFO(protocol::format_status_report(report) << daemon.log());
  REQUIRE((status_value(report, "hwrng_state") == "exhausted" ||
           status_value(report, "hwrng_state") == "failed-permanent"));
  return report;
}

// The healthy prefix, then block 5 ending in `run` copies of one byte, then
// three healthy blocks.  Block 5 is the one a failure must discard.
std::vector<std::uint8_t> file_with_run(std::size_t run) {
  auto bytes = runless_random(kPrefix);
  append(bytes, runless_random(kBlock - run, bytes.back()));
  const std::uint8_t stuck = other_than(bytes.back());
  bytes.insert(bytes.end(), run, stuck);
  append(bytes, runless_random(3 * kBlock, stuck));
  return bytes;
}

// Whatever failed, GET_RANDOM goes on from getrandom(2) and HEALTH says so.
void check_degraded_but_serving(const TestDaemon& daemon, const protocol::StatusReport& report) {
  INFO(protocol::format_status_report(report) << daemon.log());
  CHECK(status_value(report, "state") == "degraded");
  CHECK_THAT(health(daemon.socket_path()),
             Catch::StartsWith("DEGRADED hwrng " + status_value(report, "hwrng_state")));
  TestConnection connection(daemon.socket_path());
  auto reply = get_random(connection, 4096);
  CHECK(reply.header.status == Status::ok);
  CHECK(reply.payload.size() == 4096);
  CHECK(get_random(connection, 32, protocol::flags::require_hwrng).header.status == Status::hwrng_unavailable);
}

}  // namespace

TEST_CASE("a stuck FIFO trips the repetition count test within its cutoff", "[fault][hwrng]") {
  TempDir dir("rngpool-stuck");
  FifoFeeder stuck(dir.path() / "hwrng", FifoFeeder::constant_byte(0x33));
  TestDaemon daemon({.hwrng = HwrngFeed::path, .hwrng_path = stuck.path()});
  auto report = settled_report(daemon);
  INFO(protocol::format_status_report(report) << daemon.log());
  // Testing stops at the sample that reaches the permanent cutoff, having
  // counted the intermittent one on the way.
  CHECK(status_value(report, "hwrng_state") == "failed-permanent");
  CHECK(status_number(report, "hwrng_bytes_tested") == kCutoffs.rct_permanent);
  CHECK(status_number(report, "rct_failures") == 2);
  CHECK(status_number(report, "apt_failures") == 0);
  CHECK(status_number(report, "hwrng_bytes_used") == 0);
  check_degraded_but_serving(daemon, report);
}

TEST_CASE("exactly the permanent cutoff of identical bytes after a healthy prefix", "[fault][hwrng]") {
  // Block 5: 500 healthy bytes, then the stuck run; the healthy bytes before
  // the run share its block and must be discarded with it.
  auto bytes = runless_random(kPrefix + 500);
  const std::uint8_t stuck = other_than(bytes.back());
  bytes.insert(bytes.end(), kCutoffs.rct_permanent, stuck);
  append(bytes, runless_random(2 * kBlock, stuck));
  FileHwrng file(bytes);

  SECTION("without --require-hwrng: degraded, serving from getrandom(2)") {
    TestDaemon daemon(file.config());
    auto report = settled_report(daemon);
    INFO(protocol::format_status_report(report) << daemon.log());
    CHECK(status_value(report, "hwrng_state") == "failed-permanent");
    CHECK(status_number(report, "hwrng_bytes_tested") == kPrefix + 500 + kCutoffs.rct_permanent);
    CHECK(status_number(report, "hwrng_bytes_used") == kPrefixUsed);
    CHECK(status_number(report, "rct_failures") == 2);
    CHECK(status_number(report, "permanent_failures") == 1);
    check_degraded_but_serving(daemon, report);
  }
  SECTION("with --require-hwrng: GET_RANDOM refused with HWRNG_UNAVAILABLE") {
    TestDaemon daemon(file.config({"--require-hwrng"}));
    auto report = settled_report(daemon);
    INFO(protocol::format_status_report(report) << daemon.log());
    CHECK(status_value(report, "state") == "failed");
    CHECK(status_number(report, "hwrng_bytes_used") == kPrefixUsed);
    CHECK_THAT(health(daemon.socket_path()), Catch::StartsWith("FAILED hwrng failed-permanent"));
    TestConnection connection(daemon.socket_path());
    CHECK(get_random(connection, 32).header.status == Status::hwrng_unavailable);
    CHECK(ping(connection).header.status == Status::ok);
  }
}

TEST_CASE("a run one short of the RCT cutoff passes, and a run at the cutoff discards its block",
          "[fault][hwrng]") {
  const std::size_t cutoff = kCutoffs.rct_intermittent;
  const std::size_t total = kPrefix + 4 * kBlock;

  SECTION("C - 1 identical bytes: no failure, every byte after start-up used") {
    FileHwrng file(file_with_run(cutoff - 1));
    TestDaemon daemon(file.config());
    auto report = settled_report(daemon);
    INFO(protocol::format_status_report(report) << daemon.log());
    CHECK(status_value(report, "hwrng_state") == "exhausted");
    CHECK(status_number(report, "hwrng_bytes_tested") == total);
    CHECK(status_number(report, "rct_failures") == 0);
    CHECK(status_number(report, "apt_failures") == 0);
    CHECK(status_number(report, "hwrng_bytes_used") == total - core::kStartupSamples);
  }
  SECTION("C identical bytes: one intermittent failure, block 5 and the new start-up unused") {
    FileHwrng file(file_with_run(cutoff));
    TestDaemon daemon(file.config());
    auto report = settled_report(daemon);
    INFO(protocol::format_status_report(report) << daemon.log());
    CHECK(status_value(report, "hwrng_state") == "exhausted");
    CHECK(status_number(report, "hwrng_bytes_tested") == total);
    CHECK(status_number(report, "rct_failures") == 1);
    CHECK(status_number(report, "intermittent_failures") == 1);
    CHECK(status_number(report, "permanent_failures") == 0);
    // Block 5 discarded; block 6 re-runs start-up; blocks 7-8 used.
    CHECK(status_number(report, "hwrng_bytes_used") == kPrefixUsed + 2 * kBlock);
    check_degraded_but_serving(daemon, report);
  }
}

TEST_CASE("heavily biased bytes trip the adaptive proportion test within one window", "[fault][hwrng]") {
  // Every other byte is 0xAA, the rest random but never 0xAA: no runs, so
  // only the APT can object.  The prefix is a whole number of windows, so
  // the first biased byte opens a window and is its reference.
  static_assert(kPrefix % core::kAptWindowNonBinary == 0);
  auto bytes = runless_random(kPrefix);
  bytes.back() = bytes.back() == 0xAA ? 0x55 : bytes.back();
  for (auto other : runless_random(kBlock)) {
    bytes.push_back(0xAA);
    bytes.push_back(other == 0xAA ? 0x00 : other);
  }
  FileHwrng file(bytes);
  TestDaemon daemon(file.config());
  auto report = settled_report(daemon);
  INFO(protocol::format_status_report(report) << daemon.log());
  const std::uint64_t tested_biased = status_number(report, "hwrng_bytes_tested") - kPrefix;
  CHECK(status_value(report, "hwrng_state") == "failed-permanent");
  CHECK(tested_biased <= kCutoffs.apt_window);
  // The k-th 0xAA is sample 2(k-1) of the window.
  CHECK(tested_biased == 2 * (kCutoffs.apt_permanent - 1) + 1);
  CHECK(status_number(report, "apt_failures") == 2);
  CHECK(status_number(report, "rct_failures") == 0);
  CHECK(status_number(report, "hwrng_bytes_used") == kPrefixUsed);
  check_degraded_but_serving(daemon, report);
}
