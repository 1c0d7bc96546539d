// Health-test failures by test and level (issue 15: the metrics' `test` and
// `level` labels): each failure is counted under the test that tripped and
// the cutoff it reached, and the four add up to the totals STATUS shows.
#include <catch2/catch.hpp>

#include "core/health.hpp"
#include "test_health_support.hpp"

using namespace rngpool::core;
using namespace rngpool::test;

namespace {

std::uint64_t by_test_sum(const HealthCounters& n) {
  return n.intermittent_by_test.rct + n.intermittent_by_test.apt + n.permanent_by_test.rct +
         n.permanent_by_test.apt;
}

}  // namespace

TEST_CASE("An intermittent RCT failure counts as rct at the intermittent level", "[health][metrics]") {
  Stream stream;
  HealthMonitor monitor = started_monitor(stream);
  const Bytes bad = stream.run(kMark, monitor.cutoffs().rct_intermittent).take();
  monitor.test_block(bad);
  const HealthCounters& n = monitor.counters();
  CHECK(n.intermittent_by_test.rct == 1);
  CHECK(n.intermittent_by_test.apt == 0);
  CHECK(n.permanent_by_test.rct == 0);
  CHECK(n.permanent_by_test.apt == 0);
  CHECK(by_test_sum(n) == n.rct_failures + n.apt_failures);
}

TEST_CASE("A run to the permanent cutoff counts rct at both levels", "[health][metrics]") {
  Stream stream;
  HealthMonitor monitor = started_monitor(stream);
  const Bytes stuck = stream.run(kMark, monitor.cutoffs().rct_permanent).take();
  monitor.test_block(stuck);
  REQUIRE(monitor.state() == HwrngState::failed_permanent);
  const HealthCounters& n = monitor.counters();
  CHECK(n.permanent_by_test.rct == 1);
  CHECK(n.intermittent_by_test.rct >= 1);
  CHECK(n.intermittent_by_test.rct + n.intermittent_by_test.apt == n.intermittent_failures);
  CHECK(n.permanent_by_test.rct + n.permanent_by_test.apt == n.permanent_failures);
  CHECK(by_test_sum(n) == n.rct_failures + n.apt_failures);
}

TEST_CASE("An APT failure counts as apt", "[health][metrics]") {
  Stream stream;
  HealthMonitor monitor = started_monitor(stream);
  // The mark every other sample, as often as the intermittent cutoff in one
  // window: no run for the RCT, too frequent for the APT.
  const Bytes biased = stream.to_window_end().spaced(kMark, monitor.cutoffs().apt_intermittent).to_window_end().take();
  monitor.test_block(biased);
  const HealthCounters& n = monitor.counters();
  CHECK(n.rct_failures == 0);
  CHECK(n.intermittent_by_test.apt >= 1);
  CHECK(by_test_sum(n) == n.apt_failures);
}
