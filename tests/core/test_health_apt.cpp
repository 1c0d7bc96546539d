// Adaptive Proportion Test, SP 800-90B §4.4.2: boundaries at both levels and
// each of the usual ways to get the literal algorithm wrong.
#include <catch2/catch.hpp>

#include "core/health.hpp"
#include "test_health_support.hpp"

using namespace rngpool::core;
using namespace rngpool::test;

// ---------------------------------------------------------------------------
// The test on its own, with a small window.
// ---------------------------------------------------------------------------

TEST_CASE("APT: the count reaching C-1 passes, C fails", "[health][apt]") {
  AdaptiveProportionTest apt(8, 3);
  CHECK_FALSE(apt.feed(kMark));  // reference, count 1
  CHECK_FALSE(apt.feed(1));
  CHECK_FALSE(apt.feed(kMark));  // count 2
  CHECK_FALSE(apt.failing());
  CHECK_FALSE(apt.feed(2));
  CHECK(apt.feed(kMark));  // count 3
  CHECK(apt.failing());
  CHECK_FALSE(apt.feed(kMark));  // one failure per window ...
  CHECK(apt.failing());          // ... and the window stays failed
}

TEST_CASE("APT: a failed window ends after W samples", "[health][apt]") {
  AdaptiveProportionTest apt(4, 2);
  apt.feed(kMark);
  CHECK(apt.feed(kMark));
  apt.feed(1);
  apt.feed(2);
  CHECK_FALSE(apt.feed(3));  // a new window, reference 3
  CHECK_FALSE(apt.failing());
}

// ---------------------------------------------------------------------------
// In the monitor, at both levels.  started_monitor() leaves the stream on a
// window boundary, so the next sample is a reference.
// ---------------------------------------------------------------------------

TEST_CASE("APT intermittent: C-1 passes, C fails, within one window", "[health][apt]") {
  Stream stream;
  HealthMonitor monitor = started_monitor(stream);
  const std::uint32_t c = monitor.cutoffs().apt_intermittent;

  const Bytes below = stream.spaced(kMark, c - 1).to_window_end().take();
  CHECK(monitor.test_block(below).size() == below.size());
  CHECK(monitor.counters().apt_failures == 0);

  const Bytes at = stream.spaced(kMark, c).to_window_end().take();
  CHECK(monitor.test_block(at).empty());
  CHECK(monitor.state() == HwrngState::failed_intermittent);
  CHECK(monitor.counters().apt_failures == 1);
  CHECK(monitor.counters().intermittent_failures == 1);
  CHECK(monitor.counters().rct_failures == 0);
  CHECK(monitor.counters().permanent_failures == 0);
}

TEST_CASE("APT permanent: C-1 fails only intermittently, C latches", "[health][apt]") {
  Stream stream;
  HealthMonitor monitor = started_monitor(stream);
  const std::uint32_t c = monitor.cutoffs().apt_permanent;

  const Bytes below = stream.spaced(kMark, c - 1).to_window_end().take();
  CHECK(monitor.test_block(below).empty());
  CHECK(monitor.state() == HwrngState::failed_intermittent);
  CHECK(monitor.counters().apt_failures == 1);
  CHECK(monitor.counters().permanent_failures == 0);

  const Bytes at = stream.spaced(kMark, c).to_window_end().take();
  CHECK(monitor.test_block(at).empty());
  CHECK(monitor.state() == HwrngState::failed_permanent);
  CHECK(monitor.counters().permanent_failures == 1);
  CHECK(monitor.counters().intermittent_failures == 2);  // this window failed both
  CHECK(monitor.counters().apt_failures == 3);
  CHECK(counters_consistent(monitor.counters()));
}

// ---------------------------------------------------------------------------
// The usual mistakes, one test each.
// ---------------------------------------------------------------------------

TEST_CASE("APT mistake: the reference sample itself counts", "[health][apt]") {
  // Reference plus C-1 matches is a count of C.  Counting only the matches
  // would see C-1 and pass.
  Stream stream;
  HealthMonitor monitor = started_monitor(stream);
  const std::uint32_t c = monitor.cutoffs().apt_intermittent;
  const Bytes window = stream.spaced(kMark, c).to_window_end().take();
  CHECK(monitor.test_block(window).empty());
  CHECK(monitor.counters().apt_failures == 1);
}

TEST_CASE("APT mistake: only the reference value is counted", "[health][apt]") {
  // C samples of one value after a reference of another: not this test's
  // business (at H = 6 they are far too few for any other test too).
  Stream stream;
  HealthMonitor monitor = started_monitor(stream);
  const std::uint32_t c = monitor.cutoffs().apt_intermittent;
  const Bytes window = stream.clean(1).spaced(kMark, c).to_window_end().take();
  CHECK(monitor.test_block(window).size() == window.size());
  CHECK(monitor.counters().apt_failures == 0);
}

TEST_CASE("APT mistake: the window is 512, not 511", "[health][apt]") {
  // The C-th sample sits at window position 511, the last one of a 512
  // window.  With W = 511 it would open the next window instead and pass.
  Stream stream;
  HealthMonitor monitor = started_monitor(stream);
  const std::uint32_t c = monitor.cutoffs().apt_intermittent;
  const std::size_t start = stream.position();
  const Bytes window = stream.spaced(kMark, c - 1).clean_to(start + 511).run(kMark, 1).take();
  REQUIRE(window.size() == kWindow);
  CHECK(monitor.test_block(window).empty());
  CHECK(monitor.counters().apt_failures == 1);
}

TEST_CASE("APT mistake: the window is 512, not 513", "[health][apt]") {
  // C-1 in the window, then the value again at position 512: that opens the
  // next window as its reference.  With W = 513 it would be the C-th count.
  Stream stream;
  HealthMonitor monitor = started_monitor(stream);
  const std::uint32_t c = monitor.cutoffs().apt_intermittent;
  const std::size_t start = stream.position();
  const Bytes two_windows =
      stream.spaced(kMark, c - 1).clean_to(start + 512).run(kMark, 1).to_window_end().take();
  CHECK(monitor.test_block(two_windows).size() == two_windows.size());
  CHECK(monitor.counters().apt_failures == 0);
  CHECK(monitor.state() == HwrngState::ok);
}

TEST_CASE("APT mistake: windows are disjoint, not sliding", "[health][apt]") {
  // The permanent cutoff's worth of one value straddles a window boundary:
  // a 512-sample window starting at the first of them would hold all of them.
  // Both disjoint windows have a filler as reference, so neither counts them.
  Stream stream;
  HealthMonitor monitor = started_monitor(stream);
  const std::uint32_t c = monitor.cutoffs().apt_permanent;
  const std::uint32_t before = (c + 1) / 2;
  const std::uint32_t after = c - before;
  const std::size_t start = stream.position();
  const std::size_t first_mark = start + kWindow - 2 * before;  // the last at start + 510
  const Bytes block = stream.clean_to(first_mark)
                          .spaced(kMark, before)
                          .clean_to(start + kWindow + 1)  // 511 and the reference at 512
                          .spaced(kMark, after)
                          .to_window_end()
                          .take();
  const std::size_t last_mark = start + kWindow + 1 + 2 * (after - 1);
  REQUIRE(block.size() == 2 * kWindow);
  REQUIRE(block[first_mark - start] == kMark);
  REQUIRE(block[last_mark - start] == kMark);
  REQUIRE(last_mark < first_mark + kWindow);  // one sliding window holds all c
  CHECK(monitor.test_block(block).size() == block.size());
  CHECK(monitor.counters().apt_failures == 0);
  CHECK(monitor.state() == HwrngState::ok);
}

TEST_CASE("APT: a window split across blocks still fails", "[health][apt]") {
  Stream stream;
  HealthMonitor monitor = started_monitor(stream);
  const std::uint32_t c = monitor.cutoffs().apt_intermittent;

  const Bytes first = stream.spaced(kMark, c - 1).clean(1).take();
  CHECK(monitor.test_block(first).size() == first.size());
  const Bytes second = stream.run(kMark, 1).to_window_end().take();
  CHECK(monitor.test_block(second).empty());
  CHECK(monitor.counters().apt_failures == 1);
}

TEST_CASE("APT: an intermittent failure does not restart the window", "[health][apt]") {
  // An RCT failure in the middle of a window; the window goes on, and its
  // count reaches the cutoff afterwards.
  Stream stream;
  HealthMonitor monitor = started_monitor(stream);
  const std::uint32_t c = monitor.cutoffs().apt_intermittent;
  const Bytes block = stream.spaced(kMark, c - 1)
                          .clean(1)
                          .run(kOther, monitor.cutoffs().rct_intermittent)
                          .clean(1)
                          .run(kMark, 1)
                          .to_window_end()
                          .take();
  CHECK(monitor.test_block(block).empty());
  CHECK(monitor.counters().rct_failures == 1);
  CHECK(monitor.counters().apt_failures == 1);
  CHECK(monitor.counters().intermittent_failures == 2);
}
