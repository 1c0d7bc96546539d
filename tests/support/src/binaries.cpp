#include "rngpool/test/binaries.hpp"

namespace rngpool::test {

std::string rngpoold_path() {
#ifdef RNGPOOL_DAEMON_PATH
  return RNGPOOL_DAEMON_PATH;
#else
  return {};
#endif
}

std::string rngpool_cli_path() {
#ifdef RNGPOOL_CLI_PATH
  return RNGPOOL_CLI_PATH;
#else
  return {};
#endif
}

}  // namespace rngpool::test
