// The health monitor: the start-up gate (SP 800-90B §4.3), what a failure
// discards at each level, the counters, and a long healthy stream.
#include <catch2/catch.hpp>

#include <algorithm>
#include <iterator>
#include <random>

#include "core/health.hpp"
#include "test_health_support.hpp"

using namespace rngpool::core;
using namespace rngpool::test;

// ---------------------------------------------------------------------------
// Start-up gate.
// ---------------------------------------------------------------------------

TEST_CASE("Start-up: nothing is usable before 1024 passing samples", "[health][startup]") {
  Stream stream;
  HealthMonitor monitor;
  const Bytes almost = stream.clean(kStartupSamples - 1).take();
  CHECK(monitor.test_block(almost).empty());
  CHECK(monitor.state() == HwrngState::startup);

  const Bytes last = stream.clean(1).take();
  CHECK(monitor.test_block(last).empty());  // the sample completing start-up is not used
  CHECK(monitor.state() == HwrngState::ok);

  const Bytes after = stream.clean(100).take();
  CHECK(monitor.test_block(after).size() == 100);
  CHECK(monitor.counters().bytes_tested == kStartupSamples + 100);
  CHECK(monitor.counters().bytes_used == 100);
}

TEST_CASE("Start-up completing mid-block leaves the rest of the block usable", "[health][startup]") {
  Stream stream;
  HealthMonitor monitor;
  const Bytes block = stream.clean(1500).take();
  const auto usable = monitor.test_block(block);
  CHECK(monitor.state() == HwrngState::ok);
  CHECK(usable.data() == block.data() + kStartupSamples);
  CHECK(usable.size() == 1500 - kStartupSamples);
  CHECK(monitor.counters().bytes_used == 1500 - kStartupSamples);
}

TEST_CASE("Start-up counts samples across blocks of one byte", "[health][startup]") {
  Stream stream;
  HealthMonitor monitor;
  for (std::uint32_t i = 0; i < kStartupSamples; ++i) {
    const Bytes one = stream.clean(1).take();
    REQUIRE(monitor.test_block(one).empty());
  }
  CHECK(monitor.state() == HwrngState::ok);
  const Bytes one = stream.clean(1).take();
  CHECK(monitor.test_block(one).size() == 1);
}

TEST_CASE("An empty block changes nothing", "[health]") {
  HealthMonitor monitor;
  CHECK(monitor.test_block({}).empty());
  CHECK(monitor.state() == HwrngState::startup);
  CHECK(monitor.counters().bytes_tested == 0);
}

// A source opened again after it could not be read is a new stream of
// samples: start-up (SP 800-90B §4.3) runs again before any of it counts,
// the counters go on, and a run begun before the gap does not carry over.
TEST_CASE("A reopened source re-runs start-up, and a permanent failure stands", "[health][startup]") {
  Stream stream;
  HealthMonitor monitor = started_monitor(stream);
  const std::uint32_t c = monitor.cutoffs().rct_intermittent;
  CHECK(monitor.test_block(stream.run(kMark, c - 1).take()).size() == c - 1);
  monitor.source_reopened();
  CHECK(monitor.state() == HwrngState::startup);
  // One more kMark would have reached the cutoff in the old stream.
  const Bytes fresh = stream.run(kMark, 1).clean(kStartupSamples - 1).take();
  CHECK(monitor.test_block(fresh).empty());
  CHECK(monitor.state() == HwrngState::ok);
  CHECK(monitor.counters().rct_failures == 0);
  CHECK(monitor.test_block(stream.clean(10).take()).size() == 10);
  CHECK(monitor.counters().bytes_tested == 2 * kStartupSamples + (c - 1) + 10);

  CHECK(monitor.test_block(stream.run(kMark, monitor.cutoffs().rct_permanent).take()).empty());
  REQUIRE(monitor.state() == HwrngState::failed_permanent);
  monitor.source_reopened();
  CHECK(monitor.state() == HwrngState::failed_permanent);
}

// ---------------------------------------------------------------------------
// Intermittent failures.
// ---------------------------------------------------------------------------

TEST_CASE("Intermittent failure discards exactly its block and re-runs start-up", "[health][startup]") {
  Stream stream;
  HealthMonitor monitor = started_monitor(stream);
  const std::uint32_t c = monitor.cutoffs().rct_intermittent;

  const Bytes good = stream.clean(200).take();
  CHECK(monitor.test_block(good).size() == 200);

  // 100 good samples, the failing run, then 50 samples that pass and
  // already count towards the new start-up.
  const Bytes bad = stream.clean(100).run(kMark, c).clean(50).take();
  CHECK(monitor.test_block(bad).empty());
  CHECK(monitor.state() == HwrngState::failed_intermittent);

  const Bytes almost = stream.clean(kStartupSamples - 50 - 1).take();
  CHECK(monitor.test_block(almost).empty());
  CHECK(monitor.state() == HwrngState::failed_intermittent);

  const Bytes completing = stream.clean(1 + 30).take();
  const auto usable = monitor.test_block(completing);
  CHECK(monitor.state() == HwrngState::ok);
  CHECK(usable.size() == 30);
  CHECK(usable.data() == completing.data() + 1);

  const HealthCounters& n = monitor.counters();
  CHECK(n.intermittent_failures == 1);
  CHECK(n.permanent_failures == 0);
  CHECK(n.bytes_used == 200 + 30);
  CHECK(n.bytes_tested == kStartupSamples + good.size() + bad.size() + almost.size() + completing.size());
}

TEST_CASE("A failure after start-up completes in the same block spoils that block", "[health][startup]") {
  Stream stream;
  HealthMonitor monitor;
  const Bytes block = stream.clean(kStartupSamples + 100).run(kMark, monitor.cutoffs().rct_intermittent).take();
  CHECK(monitor.test_block(block).empty());
  CHECK(monitor.state() == HwrngState::failed_intermittent);
  CHECK(monitor.counters().bytes_used == 0);
}

TEST_CASE("A failure during the first start-up reports failed-intermittent until it passes", "[health][startup]") {
  Stream stream;
  HealthMonitor monitor;
  const Bytes bad = stream.clean(500).run(kMark, monitor.cutoffs().rct_intermittent).take();
  CHECK(monitor.test_block(bad).empty());
  CHECK(monitor.state() == HwrngState::failed_intermittent);

  const Bytes startup = stream.clean(kStartupSamples + 8).take();
  CHECK(monitor.test_block(startup).size() == 8);
  CHECK(monitor.state() == HwrngState::ok);
}

// ---------------------------------------------------------------------------
// Permanent failure.
// ---------------------------------------------------------------------------

TEST_CASE("A permanent failure latches", "[health][permanent]") {
  Stream stream;
  HealthMonitor monitor = started_monitor(stream);
  const Bytes stuck = stream.clean(10).run(kMark, monitor.cutoffs().rct_permanent).take();
  CHECK(monitor.test_block(stuck).empty());
  CHECK(monitor.state() == HwrngState::failed_permanent);
  const HealthCounters at_failure = monitor.counters();
  CHECK(at_failure.permanent_failures == 1);

  // Perfectly good samples, long enough for any start-up: still nothing.
  for (int i = 0; i < 4; ++i) {
    const Bytes good = stream.clean(kStartupSamples).take();
    CHECK(monitor.test_block(good).empty());
  }
  CHECK(monitor.state() == HwrngState::failed_permanent);
  CHECK(monitor.counters().bytes_used == at_failure.bytes_used);
  CHECK(monitor.counters().bytes_tested == at_failure.bytes_tested);
  CHECK(monitor.counters().permanent_failures == 1);
}

// ---------------------------------------------------------------------------
// A healthy source passes.
// ---------------------------------------------------------------------------

TEST_CASE("1 MB of mt19937 output passes at H = 6 with no failure", "[health][stream]") {
  // Full-entropy bytes against cutoffs for 6 bits: at alpha = 2^-30 a false
  // alarm in 2^20 samples is all but impossible, and the seed is fixed.
  constexpr std::size_t kTotal = std::size_t{1} << 20;
  std::mt19937 engine(20260127);
  Bytes stream(kTotal);
  for (std::size_t i = 0; i < kTotal; i += 4) {
    const auto word = engine();  // 32 random bits in a wider type
    for (std::size_t b = 0; b < 4; ++b) {
      stream[i + b] = static_cast<std::uint8_t>(word >> (8 * b));
    }
  }

  HealthMonitor monitor;
  const std::span<const std::uint8_t> all(stream);
  // Uneven block sizes, so blocks, windows and start-up never line up.
  const std::size_t sizes[] = {1, 4096, 777, 65536, 3, 1000};
  std::size_t offset = 0;
  std::size_t used = 0;
  for (std::size_t i = 0; offset < kTotal; ++i) {
    const std::size_t n = std::min(sizes[i % std::size(sizes)], kTotal - offset);
    used += monitor.test_block(all.subspan(offset, n)).size();
    offset += n;
  }

  const HealthCounters& n = monitor.counters();
  CHECK(n.rct_failures == 0);
  CHECK(n.apt_failures == 0);
  CHECK(n.intermittent_failures == 0);
  CHECK(n.permanent_failures == 0);
  CHECK(monitor.state() == HwrngState::ok);
  CHECK(n.bytes_tested == kTotal);
  CHECK(n.bytes_used == kTotal - kStartupSamples);
  CHECK(used == kTotal - kStartupSamples);
}
