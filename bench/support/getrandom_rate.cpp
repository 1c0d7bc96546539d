#include "support/getrandom_rate.hpp"

#include <chrono>
#include <stdexcept>
#include <sys/random.h>
#include <vector>

namespace rngpool::bench {

double getrandom_calls_per_second(std::size_t request_size, double seconds)
{
  using Clock = std::chrono::steady_clock;
  std::vector<unsigned char> buffer(request_size);
  std::uint64_t calls = 0;
  const auto start = Clock::now();
  const auto until = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  auto now = start;
  // Read the clock every few calls only: a 32-byte call costs about as much
  // as a clock read.
  const std::uint64_t batch = request_size <= 4096 ? 64 : 1;
  while (now < until) {
    for (std::uint64_t i = 0; i < batch; ++i) {
      std::size_t got = 0;
      while (got < request_size) {
        const ssize_t n = ::getrandom(buffer.data() + got, request_size - got, 0);
        if (n < 0) throw std::runtime_error("getrandom failed");
        got += static_cast<std::size_t>(n);
      }
    }
    calls += batch;
    now = Clock::now();
  }
  return static_cast<double>(calls) / std::chrono::duration<double>(now - start).count();
}

}  // namespace rngpool::bench
