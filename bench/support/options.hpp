// Command line of bench_service.
//
// The defaults are the full run (about two minutes on 2 CPUs); --quick keeps
// every section but shortens each measurement, as a smoke run that proves the
// whole pipeline works end to end.
#pragma once

#include <optional>
#include <set>
#include <string>

namespace rngpool::bench {

struct Options {
  std::string daemon;  // rngpoold binary
  bool quick = false;
  // Servers on CPU 0, load generator on CPU 1 (when there are 2 CPUs).
  // The default: left to itself the scheduler sometimes puts a server on the
  // load generator's CPU for the rest of its life, which halves that
  // server's figures and makes the daemon-to-baseline ratio a coin toss.
  bool pin = true;
  bool verbose = false;  // every sample to stderr
  int repetitions = 5;
  int load_threads = 1;
  double warmup_seconds = 0.1;
  double small_seconds = 0.5;     // one small-request measurement
  double bulk_seconds = 1.0;      // one bulk measurement
  double fairness_seconds = 1.0;  // one fairness measurement
  double idle_seconds = 3.0;      // idle CPU window
  int idle_connections = 1024;
  std::size_t hwrng_rate = 16 * 1024;  // bytes/s the FIFO hwrng trickles, as a virtio-rng
  std::set<std::string> sections{"startup", "small", "bulk", "fairness", "footprint", "scrape"};
  // Internal: run as the bare server on this socket (NOTIFY_SOCKET from env).
  std::optional<std::string> bare_server;
};

// Exits with a usage message on a bad command line.
Options parse_options(int argc, char** argv);

}  // namespace rngpool::bench
