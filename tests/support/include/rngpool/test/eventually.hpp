// Waiting for a condition the daemon reaches on its own schedule (hwrng
// start-up, a health failure), without asserting how fast it gets there.
#pragma once

#include <chrono>
#include <thread>

namespace rngpool::test {

// Polls `condition` until it holds (true) or `timeout` passes (false).
template <class Condition>
bool eventually(Condition condition, std::chrono::milliseconds timeout = std::chrono::seconds{10},
                std::chrono::milliseconds interval = std::chrono::milliseconds{20}) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(interval);
  }
}

}  // namespace rngpool::test
