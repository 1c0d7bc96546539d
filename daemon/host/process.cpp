#include "host/process.hpp"

#include <sys/prctl.h>
#include <sys/resource.h>

#include <algorithm>
#include <cerrno>

#include "runtime/log.hpp"

namespace rngpool::server {

// ---------------------------------------------------------------------------
// Core dumps
//
// PR_SET_DUMPABLE 0 also makes /proc/PID/{mem,environ,fd} root-only, so a
// compromised client running as the same user cannot read the pool key.
// The key pages are additionally MADV_DONTDUMP in the core (SecureBuffer).
// ---------------------------------------------------------------------------

void forbid_core_dumps() {
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
    log(LogLevel::warning, "prctl(PR_SET_DUMPABLE, 0) failed: ", errno_text(errno));
}

// ---------------------------------------------------------------------------
// File descriptors
// ---------------------------------------------------------------------------

namespace {
constexpr rlim_t kSpareFds = 96;  // listener, hwrng, stdio, journal, BUSY refusals waiting (64), slack
}

void raise_fd_limit(std::size_t connections) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0)
    return;
  rlim_t wanted = static_cast<rlim_t>(connections) + kSpareFds;
  if (limit.rlim_cur >= wanted)
    return;
  rlimit raised = limit;
  raised.rlim_cur = std::min(wanted, limit.rlim_max);
  if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
    limit = raised;
  if (limit.rlim_cur < wanted)
    log(LogLevel::warning, "file descriptor limit ", limit.rlim_cur, " is below the ", wanted,
        " that --max-connections ", connections, " needs; excess clients will be refused");
}

}  // namespace rngpool::server
