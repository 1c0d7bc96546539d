// rngpool watch: a live view of the daemon for a person (issue 15 §2).
#pragma once

#include "rngpool/client.hpp"

namespace rngpool::cli {

// Polls STATUS once a second until q, Ctrl-C or SIGTERM: full screen (ANSI
// escapes, the alternate screen) on a terminal, one line per second
// otherwise.  Returns the exit code.
int watch(const Client& client);

}  // namespace rngpool::cli
