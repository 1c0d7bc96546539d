// Process-wide settings made once, first thing in main().
#pragma once

#include <cstddef>

namespace rngpool::server {

// Key material must never land in a core dump or be readable through
// ptrace or /proc/PID/mem by another process of the same user.
void forbid_core_dumps();

// Each client is a file descriptor; the usual soft limit of 1024 is less
// than --max-connections plus the listener, the hwrng and stdio, so raise it
// towards the hard limit.  Logs a warning when that is not enough.
void raise_fd_limit(std::size_t connections);

}  // namespace rngpool::server
