#include "support/reps_options.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

namespace rngpool::bench {

RepsOptions parse_reps_options(int argc, char** argv, RepsOptions options) {
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--reps") == 0) options.reps = std::max(1, std::atoi(argv[i + 1]));
    else if (std::strcmp(argv[i], "--ms") == 0) options.ms = std::max(10, std::atoi(argv[i + 1]));
    else throw std::invalid_argument(std::string("unknown option ") + argv[i]);
  }
  return options;
}

}  // namespace rngpool::bench
