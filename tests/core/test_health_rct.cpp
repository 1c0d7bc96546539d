// Repetition Count Test, SP 800-90B §4.4.1: boundaries at both levels and
// the state that must carry across blocks.
#include <catch2/catch.hpp>

#include "core/health.hpp"
#include "test_health_support.hpp"

using namespace rngpool::core;
using namespace rngpool::test;

// ---------------------------------------------------------------------------
// The test on its own.
// ---------------------------------------------------------------------------

TEST_CASE("RCT: a run of C-1 passes, the C-th sample fails", "[health][rct]") {
  const std::uint32_t cutoff = GENERATE(2u, 6u, 11u);
  RepetitionCountTest rct(cutoff);
  for (std::uint32_t i = 1; i < cutoff; ++i) {
    CHECK_FALSE(rct.feed(kMark));
    CHECK_FALSE(rct.failing());
  }
  CHECK(rct.run_length() == cutoff - 1);
  CHECK(rct.feed(kMark));
  CHECK(rct.failing());
}

TEST_CASE("RCT: the count starts at 1 on the very first sample, whatever its value", "[health][rct]") {
  // A zero-initialised "last value" must not make a leading 0 count as a repeat.
  RepetitionCountTest rct(2);
  CHECK_FALSE(rct.feed(0));
  CHECK(rct.run_length() == 1);
  CHECK(rct.feed(0));
}

TEST_CASE("RCT: a run past the cutoff keeps failing but is one failure", "[health][rct]") {
  RepetitionCountTest rct(3);
  rct.feed(kMark);
  rct.feed(kMark);
  CHECK(rct.feed(kMark));
  CHECK_FALSE(rct.feed(kMark));  // no second failure for the same run ...
  CHECK(rct.failing());          // ... but the sample does not pass
  CHECK(rct.run_length() == 4);
  CHECK_FALSE(rct.feed(kOther));  // a new value starts a new run at 1
  CHECK_FALSE(rct.failing());
  CHECK(rct.run_length() == 1);
}

// ---------------------------------------------------------------------------
// In the monitor, at both levels.
// ---------------------------------------------------------------------------

TEST_CASE("RCT intermittent: C-1 passes, C fails", "[health][rct]") {
  Stream stream;
  HealthMonitor monitor = started_monitor(stream);
  const std::uint32_t c = monitor.cutoffs().rct_intermittent;

  const Bytes below = stream.clean(10).run(kMark, c - 1).clean(10).take();
  CHECK(monitor.test_block(below).size() == below.size());
  CHECK(monitor.counters().rct_failures == 0);
  CHECK(monitor.state() == HwrngState::ok);

  const Bytes at = stream.run(kMark, c).clean(10).take();
  CHECK(monitor.test_block(at).empty());
  CHECK(monitor.counters().rct_failures == 1);
  CHECK(monitor.counters().intermittent_failures == 1);
  CHECK(monitor.counters().apt_failures == 0);
  CHECK(monitor.counters().permanent_failures == 0);
  CHECK(monitor.state() == HwrngState::failed_intermittent);
}

TEST_CASE("RCT permanent: C-1 fails only intermittently, C latches", "[health][rct]") {
  Stream stream;
  HealthMonitor monitor = started_monitor(stream);
  const std::uint32_t c = monitor.cutoffs().rct_permanent;

  const Bytes below = stream.run(kMark, c - 1).clean(10).take();
  CHECK(monitor.test_block(below).empty());
  CHECK(monitor.state() == HwrngState::failed_intermittent);
  CHECK(monitor.counters().intermittent_failures == 1);
  CHECK(monitor.counters().permanent_failures == 0);

  // The run that reaches the permanent cutoff has passed the intermittent
  // one first: the intermittent failure must not have reset the count.
  const Bytes at = stream.run(kOther, c).clean(10).take();
  CHECK(monitor.test_block(at).empty());
  CHECK(monitor.state() == HwrngState::failed_permanent);
  CHECK(monitor.counters().permanent_failures == 1);
  CHECK(monitor.counters().intermittent_failures == 2);
  CHECK(monitor.counters().rct_failures == 3);
  CHECK(monitor.counters().apt_failures == 0);
  CHECK(counters_consistent(monitor.counters()));
}

// ---------------------------------------------------------------------------
// The run count belongs to the stream, not to a block or a window.
// ---------------------------------------------------------------------------

TEST_CASE("RCT: a run split across two blocks still fails", "[health][rct]") {
  Stream stream;
  HealthMonitor monitor = started_monitor(stream);
  const std::uint32_t c = monitor.cutoffs().rct_intermittent;

  const Bytes first = stream.clean(100).run(kMark, c - 1).take();
  CHECK(monitor.test_block(first).size() == first.size());  // nothing wrong yet
  const Bytes second = stream.run(kMark, 1).clean(100).take();
  CHECK(monitor.test_block(second).empty());
  CHECK(monitor.counters().rct_failures == 1);
  CHECK(monitor.state() == HwrngState::failed_intermittent);
}

TEST_CASE("RCT: a stuck source fed one byte per block reaches the permanent level", "[health][rct]") {
  Stream stream;
  HealthMonitor monitor = started_monitor(stream);
  const std::uint32_t c = monitor.cutoffs().rct_permanent;
  for (std::uint32_t i = 1; i <= c; ++i) {
    const Bytes one = stream.run(kMark, 1).take();
    CHECK(monitor.test_block(one).empty() == (i >= monitor.cutoffs().rct_intermittent));
  }
  CHECK(monitor.state() == HwrngState::failed_permanent);
  CHECK(monitor.counters().intermittent_failures == 1);
  CHECK(monitor.counters().permanent_failures == 1);
}

TEST_CASE("RCT: a run across an APT window boundary still fails", "[health][rct]") {
  Stream stream;
  HealthMonitor monitor = started_monitor(stream);  // ends on a window boundary
  const std::uint32_t c = monitor.cutoffs().rct_intermittent;
  const Bytes block = stream.clean(kWindow - 2).run(kMark, c).clean(10).take();
  CHECK(monitor.test_block(block).empty());
  CHECK(monitor.counters().rct_failures == 1);
  CHECK(monitor.counters().apt_failures == 0);
}

TEST_CASE("RCT: samples extending a failed run do not count towards start-up", "[health][rct]") {
  Stream stream;
  HealthMonitor monitor = started_monitor(stream);
  const std::uint32_t c = monitor.cutoffs().rct_intermittent;
  const std::uint32_t extra = monitor.cutoffs().rct_permanent - c - 1;  // stays below permanent

  const Bytes failing = stream.clean(10).run(kMark, c).take();
  CHECK(monitor.test_block(failing).empty());
  // Were the `extra` samples passing, start-up would end with this block.
  const Bytes stuck_then_clean = stream.run(kMark, extra).clean(kStartupSamples - extra).take();
  CHECK(monitor.test_block(stuck_then_clean).empty());
  CHECK(monitor.state() == HwrngState::failed_intermittent);
  CHECK(monitor.counters().intermittent_failures == 1);  // one run, one failure

  const Bytes rest = stream.clean(extra + 10).take();
  const auto usable = monitor.test_block(rest);
  CHECK(monitor.state() == HwrngState::ok);
  CHECK(usable.size() == 10);
}
