// The in-process baseline: what a program gets from getrandom(2) directly,
// with no daemon and no socket in between.
#pragma once

#include <cstddef>

namespace rngpool::bench {

// Calls per second of getrandom(buf, request_size, 0) in a loop for `seconds`.
double getrandom_calls_per_second(std::size_t request_size, double seconds);

}  // namespace rngpool::bench
