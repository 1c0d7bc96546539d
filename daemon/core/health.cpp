// SP 800-90B continuous health tests: cutoffs, the two tests, the monitor.
#include "core/health.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace rngpool::core {

// ---------------------------------------------------------------------------
// Validating the claims
//
// A sample is one byte, so it cannot carry more than 8 bits of min-entropy,
// and a claim of 0 (or NaN) would make every cutoff infinite.  Reject both
// here, once, so no cutoff is ever computed from a meaningless claim.
// ---------------------------------------------------------------------------

namespace {

constexpr long double kLn2 = 0.693147180559945309417232121458176568L;

void check_entropy(double entropy_per_sample) {
  if (entropy_per_sample > 0.0 && entropy_per_sample <= kMaxEntropyPerByte) {
    return;
  }
  throw std::invalid_argument("min-entropy per byte must be in (0, 8], got " +
                              std::to_string(entropy_per_sample));
}

void check_alpha(double alpha_log2) {
  if (alpha_log2 < 0.0 && std::isfinite(alpha_log2)) {
    return;
  }
  throw std::invalid_argument("log2(alpha) must be finite and negative, got " +
                              std::to_string(alpha_log2));
}

}  // namespace

// ---------------------------------------------------------------------------
// Repetition Count Test cutoff
//
// The quotient -log2(alpha)/H is often an integer in exact arithmetic (30/6,
// 30/0.3, 30/0.0096) but not in binary floating point, where it can come out
// a hair above the integer (30/0.3 in long double, 30/0.0096 even in double)
// and ceil() would add one to the cutoff.  A quotient within a
// relative 1e-9 of an integer is taken as that integer: when it errs, it errs
// towards the smaller, stricter cutoff.
// ---------------------------------------------------------------------------

namespace {

long double ceil_tolerant(long double x) {
  const long double nearest = std::round(x);
  if (std::fabs(x - nearest) <= 1e-9L * nearest) {
    return nearest;
  }
  return std::ceil(x);
}

std::uint32_t saturate_u32(long double x) {
  constexpr auto kMax = std::numeric_limits<std::uint32_t>::max();
  return x >= static_cast<long double>(kMax) ? kMax : static_cast<std::uint32_t>(x);
}

}  // namespace

// SP 800-90B §4.4.1: C = 1 + ceil(-log2(alpha) / H).
std::uint32_t rct_cutoff(double entropy_per_sample, double alpha_log2) {
  check_entropy(entropy_per_sample);
  check_alpha(alpha_log2);
  const long double quotient = -static_cast<long double>(alpha_log2) / entropy_per_sample;
  return saturate_u32(1.0L + ceil_tolerant(quotient));
}

// ---------------------------------------------------------------------------
// Adaptive Proportion Test cutoff
//
// SP 800-90B §4.4.2 defines C = 1 + CRITBINOM(W, p, 1 - alpha) with
// p = 2^-H, CRITBINOM being the smallest k with P[X <= k] >= 1 - alpha for
// X ~ Binomial(W, p).  Equivalently C is the smallest c with the upper tail
// P[X >= c] <= alpha.  Computing 1 - alpha directly is useless at
// alpha = 2^-60 (it rounds to 1), so the tail is summed from c = W downwards
// in log space, in long double, and the walk stops at the first c whose
// tail exceeds alpha.  The binomial coefficients come from the recurrence
// C(W, k) = C(W, k+1) * (k+1) / (W-k), which needs no lgamma (and none of
// its global signgam).  A cutoff above W cannot be reached, so C is capped
// at W: a window of W equal samples always fails.
// ---------------------------------------------------------------------------

namespace {

long double ln(std::uint32_t n) { return std::log(static_cast<long double>(n)); }

long double log_add(long double a, long double b) {
  if (a == -std::numeric_limits<long double>::infinity()) {
    return b;
  }
  const long double high = std::fmax(a, b);
  return high + std::log1p(std::exp(std::fmin(a, b) - high));
}

}  // namespace

std::uint32_t apt_cutoff(std::uint32_t window, double entropy_per_sample, double alpha_log2) {
  check_entropy(entropy_per_sample);
  check_alpha(alpha_log2);
  if (window == 0) {
    throw std::invalid_argument("APT window must be positive");
  }
  const long double log_alpha = alpha_log2 * kLn2;
  const long double log_p = -entropy_per_sample * kLn2;  // ln 2^-H
  const long double log_q = std::log(-std::expm1(log_p));  // ln(1 - 2^-H), exact near p = 1
  long double log_choose = 0.0L;                           // ln C(W, W)
  long double log_tail = -std::numeric_limits<long double>::infinity();
  for (std::uint32_t c = window;; --c) {
    const std::uint32_t failures = window - c;
    log_tail = log_add(log_tail, log_choose + c * log_p + failures * log_q);
    if (log_tail > log_alpha || c == 0) {
      return c == window ? window : c + 1;  // P[X >= c+1] <= alpha < P[X >= c]
    }
    log_choose += ln(c) - ln(failures + 1);  // ln C(W, c-1)
  }
}

HealthCutoffs compute_cutoffs(double entropy_per_byte) {
  return HealthCutoffs{
      .rct_intermittent = rct_cutoff(entropy_per_byte, kIntermittentAlphaLog2),
      .rct_permanent = rct_cutoff(entropy_per_byte, kPermanentAlphaLog2),
      .apt_intermittent = apt_cutoff(kAptWindowNonBinary, entropy_per_byte, kIntermittentAlphaLog2),
      .apt_permanent = apt_cutoff(kAptWindowNonBinary, entropy_per_byte, kPermanentAlphaLog2),
      .apt_window = kAptWindowNonBinary,
  };
}

// ---------------------------------------------------------------------------
// Repetition Count Test
//
// SP 800-90B §4.4.1 catches a source stuck on one value.  The run count starts
// at 1 on a new value.  It is never reset by a failure: a stuck source must
// keep counting until it reaches the permanent cutoff, and a run past the
// cutoff keeps failing rather than quietly passing again.  The count
// saturates instead of wrapping, so a failing run can never look short.
// ---------------------------------------------------------------------------

RepetitionCountTest::RepetitionCountTest(std::uint32_t cutoff) : cutoff_(cutoff) {
  if (cutoff == 0) {
    throw std::invalid_argument("RCT cutoff must be positive");
  }
}

bool RepetitionCountTest::feed(std::uint8_t sample) {
  if (run_ == 0 || sample != last_) {
    last_ = sample;
    run_ = 1;
  } else if (run_ == std::numeric_limits<std::uint32_t>::max()) {
    return false;  // saturated: this run failed long ago
  } else {
    ++run_;
  }
  return run_ == cutoff_;
}

// ---------------------------------------------------------------------------
// Adaptive Proportion Test
//
// SP 800-90B §4.4.2 catches a source that favours one value without repeating
// it back to back.  The literal algorithm: the first sample of a window is
// the reference and counts 1; each of the next W-1 samples equal to it adds
// 1.  Windows are consecutive and disjoint, and they do not care where the
// caller's blocks begin or end.  A failed window keeps failing to its end.
// ---------------------------------------------------------------------------

AdaptiveProportionTest::AdaptiveProportionTest(std::uint32_t window, std::uint32_t cutoff)
    : window_(window), cutoff_(cutoff) {
  if (window == 0 || cutoff == 0) {
    throw std::invalid_argument("APT window and cutoff must be positive");
  }
}

bool AdaptiveProportionTest::feed(std::uint8_t sample) {
  const bool opens_window = position_ == 0;
  if (opens_window) {
    reference_ = sample;
    count_ = 0;
  }
  const bool counts = opens_window || sample == reference_;
  if (counts) {
    ++count_;
  }
  position_ = position_ + 1 == window_ ? 0 : position_ + 1;
  return counts && count_ == cutoff_;
}

// ---------------------------------------------------------------------------
// Reported states
// ---------------------------------------------------------------------------

std::string_view to_string(HwrngState state) {
  switch (state) {
    case HwrngState::startup: return "startup";
    case HwrngState::ok: return "ok";
    case HwrngState::failed_intermittent: return "failed-intermittent";
    case HwrngState::failed_permanent: return "failed-permanent";
    case HwrngState::absent: return "absent";
    case HwrngState::exhausted: return "exhausted";
    case HwrngState::unreadable: return "unreadable";
  }
  return "unknown";
}

// ---------------------------------------------------------------------------
// The monitor: two levels and the start-up gate
//
// Every sample goes through all four tests; none is skipped because another
// already failed, or the permanent level would miss what the intermittent one
// saw.  A sample failing at the permanent level (alpha = 2^-60) latches
// failed_permanent: the source is broken, not unlucky.  A sample failing at
// the intermittent level (alpha = 2^-30) spoils its whole block, since the
// bytes before it in the block were already produced by a suspect source,
// and restarts the start-up test of SP 800-90B §4.3: 1024 consecutive
// passing samples, of which none is used; only the samples after them are.
// ---------------------------------------------------------------------------

HealthMonitor::HealthMonitor(double entropy_per_byte)
    : entropy_per_byte_(entropy_per_byte),
      cutoffs_(compute_cutoffs(entropy_per_byte)),
      intermittent_(intermittent_level()),
      permanent_(permanent_level()) {}

HealthMonitor::Level HealthMonitor::intermittent_level() const {
  return {RepetitionCountTest(cutoffs_.rct_intermittent),
          AdaptiveProportionTest(cutoffs_.apt_window, cutoffs_.apt_intermittent)};
}

HealthMonitor::Level HealthMonitor::permanent_level() const {
  return {RepetitionCountTest(cutoffs_.rct_permanent),
          AdaptiveProportionTest(cutoffs_.apt_window, cutoffs_.apt_permanent)};
}

void HealthMonitor::source_reopened() {
  if (state_ == HwrngState::failed_permanent) {
    return;
  }
  state_ = HwrngState::startup;
  startup_passed_ = 0;
  intermittent_ = intermittent_level();
  permanent_ = permanent_level();
}

bool HealthMonitor::fails_at(Level& level, std::uint64_t& level_failures, TestFailures& by_test,
                             std::uint8_t sample) {
  if (level.rct.feed(sample)) {
    ++counters_.rct_failures;
    ++by_test.rct;
    ++level_failures;
  }
  if (level.apt.feed(sample)) {
    ++counters_.apt_failures;
    ++by_test.apt;
    ++level_failures;
  }
  return level.rct.failing() || level.apt.failing();
}

void HealthMonitor::restart_startup() {
  state_ = HwrngState::failed_intermittent;
  startup_passed_ = 0;
}

// Counts one passing sample towards start-up; true on the one completing it.
bool HealthMonitor::completes_startup() {
  if (state_ == HwrngState::ok || ++startup_passed_ < kStartupSamples) {
    return false;
  }
  state_ = HwrngState::ok;
  return true;
}

std::span<const std::uint8_t> HealthMonitor::test_block(std::span<const std::uint8_t> block) {
  if (state_ == HwrngState::failed_permanent) {
    return {};
  }
  std::size_t usable_from = state_ == HwrngState::ok ? 0 : block.size();
  bool spoiled = false;
  for (std::size_t i = 0; i < block.size(); ++i) {
    ++counters_.bytes_tested;
    const bool permanent = fails_at(permanent_, counters_.permanent_failures, counters_.permanent_by_test, block[i]);
    const bool intermittent = fails_at(intermittent_, counters_.intermittent_failures, counters_.intermittent_by_test, block[i]);
    if (permanent) {
      state_ = HwrngState::failed_permanent;
      return {};
    }
    if (intermittent) {
      restart_startup();
      spoiled = true;
    } else if (completes_startup()) {
      usable_from = i + 1;
    }
  }
  if (spoiled) {
    return {};
  }
  const auto usable = block.subspan(usable_from);
  counters_.bytes_used += usable.size();
  return usable;
}

}  // namespace rngpool::core
