// SP 800-90B continuous health tests for the hardware RNG.
//
// The hwrng is a physical noise source: it can fail silently, stuck on one
// value or biased towards a few.  Every raw byte passes the Repetition Count
// Test (SP 800-90B §4.4.1) and the Adaptive Proportion Test (§4.4.2) before it
// may reach the input pool, and no byte is used until the start-up test
// (§4.3) has seen 1024 consecutive samples pass.
//
// Samples are bytes: a non-binary source, so the APT window is W = 512.  The
// tests run at two levels, as jitterentropy does: an intermittent failure
// (alpha = 2^-30) discards the block and restarts the start-up test; a
// permanent failure (alpha = 2^-60) disables the hwrng until restart.
//
// Pure code: no I/O, no threads, no clock.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace rngpool::core {

inline constexpr std::uint32_t kAptWindowNonBinary = 512;  // SP 800-90B §4.4.2
inline constexpr std::uint32_t kAptWindowBinary = 1024;    // SP 800-90B §4.4.2
inline constexpr std::uint32_t kStartupSamples = 1024;     // SP 800-90B §4.3 (1)
inline constexpr double kIntermittentAlphaLog2 = -30.0;
inline constexpr double kPermanentAlphaLog2 = -60.0;
inline constexpr double kDefaultEntropyPerByte = 6.0;
inline constexpr double kMaxEntropyPerByte = 8.0;

// The cutoff functions take the claimed min-entropy per sample in (0, 8] and
// log2(alpha) < 0; both throw std::invalid_argument otherwise.
//
// SP 800-90B §4.4.1: C = 1 + ceil(-log2(alpha) / H).  Saturates at
// UINT32_MAX for absurdly small H.
std::uint32_t rct_cutoff(double entropy_per_sample, double alpha_log2);
// SP 800-90B §4.4.2: C = 1 + CRITBINOM(W, 2^-H, 1 - alpha), computed exactly;
// never more than W.
std::uint32_t apt_cutoff(std::uint32_t window, double entropy_per_sample, double alpha_log2);

// Repetition Count Test, SP 800-90B §4.4.1, one cutoff.  The run count starts
// at 1 on a new value; feed() returns true on the sample that makes the run
// reach the cutoff (one failure per run).  failing() stays true while the
// run goes on past the cutoff: those samples do not pass either.  State
// carries across blocks.
class RepetitionCountTest {
 public:
  explicit RepetitionCountTest(std::uint32_t cutoff);
  bool feed(std::uint8_t sample);
  bool failing() const { return run_ >= cutoff_; }
  std::uint32_t run_length() const { return run_; }

 private:
  std::uint32_t cutoff_;
  std::uint32_t run_ = 0;
  std::uint8_t last_ = 0;
};

// Adaptive Proportion Test, SP 800-90B §4.4.2, one cutoff.  Literal
// algorithm: the first sample of each window is the reference and counts 1;
// the next W-1 samples are compared; windows are consecutive and disjoint.
// feed() returns true on the sample that makes the count reach the cutoff
// (one failure per window); failing() stays true for the rest of that window.
class AdaptiveProportionTest {
 public:
  AdaptiveProportionTest(std::uint32_t window, std::uint32_t cutoff);
  bool feed(std::uint8_t sample);
  bool failing() const { return count_ >= cutoff_; }

 private:
  std::uint32_t window_;
  std::uint32_t cutoff_;
  std::uint32_t position_ = 0;  // samples seen in the current window
  std::uint32_t count_ = 0;
  std::uint8_t reference_ = 0;
};

// What the server reports for the hwrng.  The monitor itself produces the
// first four; the source reader adds absent (no such path), unreadable (the
// path exists but cannot be opened or read) and exhausted (end of file).
enum class HwrngState { startup, ok, failed_intermittent, failed_permanent, absent, exhausted, unreadable };
std::string_view to_string(HwrngState state);  // "startup", "ok", "failed-intermittent", ...

struct HealthCutoffs {
  std::uint32_t rct_intermittent;
  std::uint32_t rct_permanent;
  std::uint32_t apt_intermittent;
  std::uint32_t apt_permanent;
  std::uint32_t apt_window;
};
// Throws std::invalid_argument unless entropy_per_byte is in (0, 8].
HealthCutoffs compute_cutoffs(double entropy_per_byte);

// Failures are counted when a test's statistic reaches its cutoff, once per
// run (RCT) or window (APT) and per level, so
// rct_failures + apt_failures == intermittent_failures + permanent_failures.
// A run long enough to reach the permanent cutoff has already counted one
// intermittent failure on its way.
//
// The same failures by test at one level, so a monitor can tell a stuck
// source (RCT) from a biased one (APT) per level: the four of them add up
// to rct_failures + apt_failures.
struct TestFailures {
  std::uint64_t rct = 0;
  std::uint64_t apt = 0;
};

struct HealthCounters {
  std::uint64_t bytes_tested = 0;
  std::uint64_t bytes_used = 0;  // returned as usable by test_block()
  std::uint64_t rct_failures = 0;  // both levels
  std::uint64_t apt_failures = 0;  // both levels
  std::uint64_t intermittent_failures = 0;
  std::uint64_t permanent_failures = 0;
  TestFailures intermittent_by_test;
  TestFailures permanent_by_test;
};

// Both tests at both levels, plus the start-up gate.
class HealthMonitor {
 public:
  // entropy_per_byte in (0, 8]; throws std::invalid_argument otherwise.
  explicit HealthMonitor(double entropy_per_byte = kDefaultEntropyPerByte);

  // Tests a block of raw samples and returns the part of it that may be mixed
  // into the input pool, a subspan of `block`: empty if any sample of the
  // block fails, if start-up has not completed (the samples that complete it
  // are not used; if it completes mid-block the rest of the block is), or
  // after a permanent failure.  Once failed_permanent, blocks are no longer
  // tested (bytes_tested stops).
  std::span<const std::uint8_t> test_block(std::span<const std::uint8_t> block);

  // The source was opened again after it could not be opened or read: a new
  // stream of samples, so the start-up test (SP 800-90B §4.3) runs again
  // before any of it is used, and both tests start afresh.  A permanent
  // failure stands.
  void source_reopened();

  HwrngState state() const { return state_; }  // startup, ok, failed_intermittent, failed_permanent
  double entropy_per_byte() const { return entropy_per_byte_; }
  const HealthCutoffs& cutoffs() const { return cutoffs_; }
  const HealthCounters& counters() const { return counters_; }

 private:
  // One alpha: an RCT and an APT with that level's cutoffs.
  struct Level {
    RepetitionCountTest rct;
    AdaptiveProportionTest apt;
  };
  Level intermittent_level() const;
  Level permanent_level() const;
  bool fails_at(Level& level, std::uint64_t& level_failures, TestFailures& by_test, std::uint8_t sample);
  void restart_startup();
  bool completes_startup();

  double entropy_per_byte_;
  HealthCutoffs cutoffs_;
  HealthCounters counters_;
  HwrngState state_ = HwrngState::startup;
  Level intermittent_;
  Level permanent_;
  std::uint32_t startup_passed_ = 0;  // consecutive samples passed since (re)start
};

}  // namespace rngpool::core
