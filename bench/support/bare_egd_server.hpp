// The EGD ceiling: the least a server can do per EGD request.
//
// One thread, one level-triggered epoll, one read and one send per batch of
// requests; 0x02 n and 0x01 n are answered from a buffer filled once at
// start (no crypto, the same bytes every time -- a baseline, never a source
// of randomness), 0x00 with 2040 bits, 0x03 is skipped, 0x04 is the pid.
// What is left is the kernel's Unix-socket cost and the wake-ups, which is
// what a perfect daemon behind QEMU's rng-egd would still pay: the ceiling
// bench/guest-egd sets rngpoold's EGD socket against.  Replies go out with a
// blocking send (at most 256 bytes per request), so a client that pipelines
// without reading stalls it: good enough for a benchmark.
//
// It runs in its own process (bench_egd --bare-server PATH).
#pragma once

#include <string>

namespace rngpool::bench {

// Serves until killed.  Sends READY=1 (sd_notify, to $NOTIFY_SOCKET) once
// listening.
[[noreturn]] void run_bare_egd_server(const std::string& socket_path);

}  // namespace rngpool::bench
