// Sample streams for the health-test tests.
//
// Boundary tests need to know exactly what each test sees: where the APT
// windows fall, which value is each window's reference, how long each run
// is.  A Stream is built piece by piece from fillers that can never fail
// anything on their own (0..127 in turn: no value twice in a row, each at
// most 5 times per 512-sample window) and from marks >= 128 that never occur
// among the fillers.  Positions count from the start of the whole stream, as
// the monitor's APT windows do, across every take().
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/health.hpp"

namespace rngpool::test {

using Bytes = std::vector<std::uint8_t>;

inline constexpr std::uint8_t kMark = 0xA5;   // the value a test stresses
inline constexpr std::uint8_t kOther = 0xC3;  // a second, unrelated mark
inline constexpr std::size_t kWindow = core::kAptWindowNonBinary;

class Stream {
 public:
  // n fillers.
  Stream& clean(std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      push(static_cast<std::uint8_t>(fillers_++ % 128));
    }
    return *this;
  }
  // A run of n equal samples.
  Stream& run(std::uint8_t value, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      push(value);
    }
    return *this;
  }
  // k samples of `value`, a filler between each two: APT counts k, RCT sees
  // runs of 1.  Takes 2k-1 positions.
  Stream& spaced(std::uint8_t value, std::size_t k) {
    for (std::size_t i = 0; i < k; ++i) {
      if (i != 0) {
        clean(1);
      }
      push(value);
    }
    return *this;
  }
  // Fillers up to the next APT window boundary (none if already on one).
  Stream& to_window_end() { return clean((kWindow - position_ % kWindow) % kWindow); }
  // Fillers up to absolute position p.
  Stream& clean_to(std::size_t p) { return clean(p - position_); }

  // The samples appended since the last take().
  Bytes take() {
    Bytes out;
    out.swap(pending_);
    return out;
  }
  std::size_t position() const { return position_; }

 private:
  void push(std::uint8_t sample) {
    pending_.push_back(sample);
    ++position_;
  }

  Bytes pending_;
  std::size_t position_ = 0;
  std::size_t fillers_ = 0;
};

// A monitor at the default H whose start-up test has just completed on the
// first kStartupSamples samples of `stream` (two whole APT windows).
inline core::HealthMonitor started_monitor(Stream& stream) {
  core::HealthMonitor monitor;
  const Bytes startup = stream.clean(core::kStartupSamples).take();
  monitor.test_block(startup);
  return monitor;
}

// Every failure is counted once by test and once by level.
inline bool counters_consistent(const core::HealthCounters& c) {
  return c.rct_failures + c.apt_failures == c.intermittent_failures + c.permanent_failures;
}

}  // namespace rngpool::test
