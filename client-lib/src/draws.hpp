// Draws: uniform integers from a batch of one call's random bytes.
#pragma once

#include "rngpool/client.hpp"

#include <array>
#include <cstdint>
#include <span>

namespace rngpool::detail {

// Fetches bytes from `client` in batches sized for `expected_draws` 64-bit
// draws (more come if rejection needs them) and wipes them when destroyed,
// so no random byte outlives the call that fetched it.  The batch lives in
// the object, on the caller's stack: a heap allocation would cost randbelow()
// as much as the local generator's whole draw.
class Draws {
 public:
  Draws(const Client& client, std::size_t expected_draws);
  Draws(const Draws&) = delete;
  Draws& operator=(const Draws&) = delete;
  ~Draws();

  std::uint64_t next_u64();
  std::uint64_t below(std::uint64_t n);  // uniform on [0, n), n > 0

 private:
  static constexpr std::size_t kMaxBatch = 4096;  // a long shuffle streams instead of hoarding
  const Client& client_;
  std::array<std::uint8_t, kMaxBatch> storage_;  // only batch_ of it is ever written
  std::span<std::uint8_t> batch_;
  std::size_t used_;
};

}  // namespace rngpool::detail
