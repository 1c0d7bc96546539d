// Starting the daemon without a privilege the test's root would lend it.
//
// The tests run as root, and root bypasses exactly what some failure tests
// are about: file modes (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH) and
// RLIMIT_MEMLOCK (CAP_IPC_LOCK).  setpriv(1) drops the capabilities from the
// bounding and inheritable sets before it execs the daemon, so the daemon
// never holds them; as another user there is nothing to drop.  prlimit(1)
// sets a resource limit the same way.  Both exec, so the daemon keeps the
// wrapper's pid (DaemonConfig::wrapper).  Tests check the result with
// has_effective_capability() rather than trusting the wrapper.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace rngpool::test {

// A command prefix that runs the rest without the named capabilities
// ("dac_override", "ipc_lock", ...); empty unless we are root.
std::vector<std::string> without_capabilities(const std::vector<std::string>& names);
// A command prefix that runs the rest with RLIMIT_MEMLOCK soft and hard at 0.
std::vector<std::string> with_no_memlock();
// A command prefix that runs the rest as uid and gid `id` with no
// supplementary groups (a client that is not root, for SO_PEERCRED checks);
// empty unless we are root.
std::vector<std::string> as_uid(std::uint32_t id);
// Whether `pid` holds capability number `capability` (CAP_IPC_LOCK, ...) in
// its effective set, as /proc/PID/status says.
bool has_effective_capability(pid_t pid, int capability);

}  // namespace rngpool::test
