// What the kernel says a running process costs: resident memory and CPU
// time, read from /proc/PID.
//
// Memory bounds (tests) and footprint figures (bench) are claims about the
// daemon as the operator's tools see it, so both read the same /proc fields
// the same way.
#pragma once

#include <sys/types.h>

#include <cstdint>

namespace rngpool::test {

// VmRSS in KiB; throws when the process is gone.
std::uint64_t rss_kib(pid_t pid);
// CPU time of all its threads, in seconds: schedstat when the kernel has it
// (exact), else utime + stime (clock ticks, 10 ms steps: too coarse to tell
// an idle daemon's 0.1 % from 0.3 %).
double cpu_seconds(pid_t pid);

}  // namespace rngpool::test
