// Cutoffs of the SP 800-90B health tests, the claimed-entropy range and the
// reported state names.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "core/health.hpp"

using namespace rngpool::core;

namespace {

constexpr double kTable2AlphaLog2 = -20.0;

}  // namespace

// ---------------------------------------------------------------------------
// SP 800-90B Table 2 (alpha = 2^-20), reproduced by the run-time computation.
// ---------------------------------------------------------------------------

TEST_CASE("APT cutoff reproduces SP 800-90B Table 2, non-binary W = 512", "[health][cutoff]") {
  const auto [h, expected] = GENERATE(table<double, std::uint32_t>({
      {0.5, 410}, {1.0, 311}, {2.0, 177}, {4.0, 62}, {8.0, 13}}));
  CAPTURE(h);
  CHECK(apt_cutoff(kAptWindowNonBinary, h, kTable2AlphaLog2) == expected);
}

TEST_CASE("APT cutoff reproduces SP 800-90B Table 2, binary W = 1024", "[health][cutoff]") {
  const auto [h, expected] = GENERATE(table<double, std::uint32_t>({
      {0.2, 941}, {0.4, 840}, {0.6, 748}, {0.8, 664}, {1.0, 589}}));
  CAPTURE(h);
  CHECK(apt_cutoff(kAptWindowBinary, h, kTable2AlphaLog2) == expected);
}

// At the daemon's own alphas the tail is far below what 1 - alpha in double
// could resolve.  Expected values from exact rational arithmetic
// (Python fractions, sum of C(512, k) p^k (1-p)^(512-k) from the top).
TEST_CASE("APT cutoff is exact at alpha = 2^-30 and 2^-60", "[health][cutoff]") {
  const auto [h, intermittent, permanent] = GENERATE(table<double, std::uint32_t, std::uint32_t>({
      {1.0, 325, 355}, {2.0, 190, 220}, {4.0, 71, 91}, {6.0, 31, 44}, {8.0, 16, 25}}));
  CAPTURE(h);
  CHECK(apt_cutoff(kAptWindowNonBinary, h, kIntermittentAlphaLog2) == intermittent);
  CHECK(apt_cutoff(kAptWindowNonBinary, h, kPermanentAlphaLog2) == permanent);
}

TEST_CASE("APT cutoff never exceeds the window", "[health][cutoff]") {
  // At H = 0.01 a full window of one value has probability 2^-5.12, far more
  // than alpha: the uncapped cutoff would be W + 1, which no count reaches.
  CHECK(apt_cutoff(kAptWindowNonBinary, 0.01, kPermanentAlphaLog2) == kAptWindowNonBinary);
  CHECK(apt_cutoff(kAptWindowBinary, 0.01, kPermanentAlphaLog2) == kAptWindowBinary);
  CHECK(apt_cutoff(kAptWindowNonBinary, 1e-9, kIntermittentAlphaLog2) == kAptWindowNonBinary);
  CHECK(apt_cutoff(1, 8.0, kPermanentAlphaLog2) == 1);
}

// ---------------------------------------------------------------------------
// RCT cutoff, SP 800-90B §4.4.1: C = 1 + ceil(-log2(alpha) / H).
// ---------------------------------------------------------------------------

TEST_CASE("RCT cutoff follows 1 + ceil(-log2(alpha) / H)", "[health][cutoff]") {
  CHECK(rct_cutoff(2.0, -20.0) == 11);  // the worked example of §4.4.1
  CHECK(rct_cutoff(6.0, -30.0) == 6);   // 30/6 is exactly 5: not 7
  CHECK(rct_cutoff(6.0, -60.0) == 11);
  CHECK(rct_cutoff(7.0, -30.0) == 6);   // ceil(4.29) = 5
  CHECK(rct_cutoff(8.0, -30.0) == 5);   // ceil(3.75) = 4
  CHECK(rct_cutoff(8.0, -60.0) == 9);
}

TEST_CASE("RCT cutoff is not pushed up by floating-point error", "[health][cutoff]") {
  // 30 / 0.3 and 60 / 0.3 are a hair above 100 and 200 in double.
  CHECK(rct_cutoff(0.3, -30.0) == 101);
  CHECK(rct_cutoff(0.3, -60.0) == 201);
  CHECK(rct_cutoff(0.1, -30.0) == 301);
  CHECK(rct_cutoff(0.6, -60.0) == 101);
  // And these even in plain double arithmetic.
  CHECK(rct_cutoff(0.0096, -30.0) == 3126);
  CHECK(rct_cutoff(0.0012, -60.0) == 50001);
}

TEST_CASE("RCT cutoff saturates instead of overflowing", "[health][cutoff]") {
  CHECK(rct_cutoff(1e-12, kPermanentAlphaLog2) == std::numeric_limits<std::uint32_t>::max());
}

// ---------------------------------------------------------------------------
// The daemon's defaults, as STATUS will report them.
// ---------------------------------------------------------------------------

TEST_CASE("Default cutoffs at H = 6", "[health][cutoff]") {
  const HealthCutoffs c = compute_cutoffs(kDefaultEntropyPerByte);
  CHECK(c.rct_intermittent == 6);
  CHECK(c.rct_permanent == 11);
  CHECK(c.apt_intermittent == 31);
  CHECK(c.apt_permanent == 44);
  CHECK(c.apt_window == 512);

  const HealthMonitor monitor;
  CHECK(monitor.entropy_per_byte() == kDefaultEntropyPerByte);
  CHECK(monitor.cutoffs().rct_intermittent == c.rct_intermittent);
  CHECK(monitor.cutoffs().rct_permanent == c.rct_permanent);
  CHECK(monitor.cutoffs().apt_intermittent == c.apt_intermittent);
  CHECK(monitor.cutoffs().apt_permanent == c.apt_permanent);
  CHECK(monitor.state() == HwrngState::startup);
}

TEST_CASE("Cutoffs are ordered over the whole entropy range", "[health][cutoff]") {
  // Permanent is the stricter alpha, so never the lower cutoff; less claimed
  // entropy means more tolerance.
  HealthCutoffs previous = compute_cutoffs(0.05);
  for (double h = 0.1; h <= 8.0; h += 0.05) {
    CAPTURE(h);
    const HealthCutoffs c = compute_cutoffs(h);
    CHECK(c.rct_intermittent < c.rct_permanent);
    CHECK(c.apt_intermittent <= c.apt_permanent);
    CHECK(c.apt_permanent <= c.apt_window);
    CHECK(c.rct_permanent <= previous.rct_permanent);
    CHECK(c.apt_intermittent <= previous.apt_intermittent);
    CHECK(c.apt_permanent <= previous.apt_permanent);
    previous = c;
  }
}

// ---------------------------------------------------------------------------
// The claimed entropy must be in (0, 8].
// ---------------------------------------------------------------------------

TEST_CASE("Claimed entropy outside 0 < H <= 8 is rejected with the range named", "[health][config]") {
  const double bad = GENERATE(0.0, -1.0, 8.000001, 9.0, std::numeric_limits<double>::infinity(),
                              std::numeric_limits<double>::quiet_NaN());
  CAPTURE(bad);
  CHECK_THROWS_WITH(HealthMonitor(bad), Catch::Contains("(0, 8]"));
  CHECK_THROWS_AS(HealthMonitor(bad), std::invalid_argument);
  CHECK_THROWS_AS(compute_cutoffs(bad), std::invalid_argument);
  CHECK_THROWS_AS(rct_cutoff(bad, kIntermittentAlphaLog2), std::invalid_argument);
  CHECK_THROWS_AS(apt_cutoff(kAptWindowNonBinary, bad, kIntermittentAlphaLog2), std::invalid_argument);
}

TEST_CASE("Claimed entropy at the ends of the range is accepted", "[health][config]") {
  CHECK(HealthMonitor(8.0).cutoffs().rct_intermittent == 5);
  CHECK(HealthMonitor(1e-3).cutoffs().apt_permanent == kAptWindowNonBinary);
}

TEST_CASE("alpha must be below 1", "[health][config]") {
  const double bad = GENERATE(0.0, 1.0, -std::numeric_limits<double>::infinity(),
                              std::numeric_limits<double>::quiet_NaN());
  CAPTURE(bad);
  CHECK_THROWS_AS(rct_cutoff(6.0, bad), std::invalid_argument);
  CHECK_THROWS_AS(apt_cutoff(kAptWindowNonBinary, 6.0, bad), std::invalid_argument);
}

// ---------------------------------------------------------------------------
// State names, as STATUS shows them.
// ---------------------------------------------------------------------------

TEST_CASE("hwrng states have their STATUS names", "[health]") {
  CHECK(to_string(HwrngState::startup) == "startup");
  CHECK(to_string(HwrngState::ok) == "ok");
  CHECK(to_string(HwrngState::failed_intermittent) == "failed-intermittent");
  CHECK(to_string(HwrngState::failed_permanent) == "failed-permanent");
  CHECK(to_string(HwrngState::absent) == "absent");
  CHECK(to_string(HwrngState::exhausted) == "exhausted");
}
