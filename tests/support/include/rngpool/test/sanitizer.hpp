// Whether this test binary runs under AddressSanitizer (scripts/test's second
// build).  Sanitizer builds pay for shadow memory and a quarantine of freed
// blocks (up to 256 MiB by default), so absolute memory bounds only mean
// something in a normal build; programs the tests compile and link against
// an instrumented library must be instrumented too; and GCC 12's libasan does
// not hold its own locks across fork(), so a child forked while another
// thread allocates can hang inside the sanitizer before it runs any of ours.
#pragma once

#include <cstdlib>
#include <string>
#include <vector>

namespace rngpool::test {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif

// The environment that preloads `library` into a daemon (TestDaemon's env):
// under ASan the sanitizer insists on being first in the library list unless
// told that a preload is intended.
inline std::vector<std::string> preload_env(const std::string& library) {
  std::vector<std::string> env{"LD_PRELOAD=" + library};
  if (kSanitized) {
    const char* options = std::getenv("ASAN_OPTIONS");
    env.push_back(std::string("ASAN_OPTIONS=") + (options ? std::string(options) + ":" : "") +
                  "verify_asan_link_order=0");
  }
  return env;
}

}  // namespace rngpool::test
