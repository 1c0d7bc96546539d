// The rngpool subcommands.
#pragma once

#include "arguments.hpp"

namespace rngpool::cli {

// Runs in.command; returns the exit code.  Library errors propagate.
int run_command(const Invocation& in);

}  // namespace rngpool::cli
