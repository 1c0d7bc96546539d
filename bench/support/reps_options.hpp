// Command line of the in-process benchmarks (bench_local, bench_openssl):
// --reps N repetitions of --ms milliseconds per figure.
#pragma once

namespace rngpool::bench {

struct RepsOptions {
  int reps = 7;
  int ms = 200;
};

// --help prints the usage and exits 0; throws std::invalid_argument naming
// an unknown option, a missing value or one that is not a number.
RepsOptions parse_reps_options(int argc, char** argv, RepsOptions defaults);

}  // namespace rngpool::bench
