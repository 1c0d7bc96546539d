// Paths of the binaries under test, in the build tree.
#pragma once

#include <string>

namespace rngpool::test {

std::string rngpoold_path();     // "" when the build has no rngpoold target
std::string rngpool_cli_path();  // "" when the build has no rngpool (CLI) target

}  // namespace rngpool::test
