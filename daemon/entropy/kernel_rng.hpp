// The kernel RNG, getrandom(2): the pool's always-present input.
//
// Flags 0 only: it blocks until the kernel RNG is initialised, and afterwards
// never.  GRND_INSECURE would hand out bytes before that point, which is the
// one thing a seed must never be (issue 2 §2).  GRND_NONBLOCK is used only to
// ask whether the kernel is ready, so the io thread never blocks on it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>

#include "runtime/mailbox.hpp"

namespace rngpool::server {

// Fills `out` completely; throws std::system_error when getrandom(2) fails
// (it cannot, short of a kernel without the call).
void kernel_random(std::span<std::uint8_t> out);

// True when getrandom(2) with flags 0 would not block.
bool kernel_rng_ready();

// Calls `ready` on the io thread once the kernel RNG is initialised, waiting
// on a helper thread if it is not yet.
void when_kernel_rng_ready(const std::shared_ptr<Mailbox>& mailbox, std::function<void()> ready);

}  // namespace rngpool::server
