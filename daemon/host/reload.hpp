// SIGHUP: which settings a reload changes (issue 9 §8).
//
// A reload re-reads the configuration exactly as the start did -- the same
// command line, whose options still win, and the same config file -- and
// compares the result with the settings in force, one setting at a time.
// Run-time settings (the log level, the access lists, the limits, the
// reseed interval) are taken.  Settings bound into the listening socket,
// the hwrng reader or the health-test cutoffs at start are named as needing
// a restart and left as they are; they stay different from the file, so
// every later reload names them again until a restart takes them.
//
// Pure: no signals, files or logging here.  main.cpp reads the options,
// logs the report and hands the settings in force to the running pieces.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "runtime/log.hpp"
#include "host/options.hpp"

namespace rngpool::server {

struct ReloadPlan {
  struct Line {
    LogLevel level;    // info for a change taken, warning for one that needs a restart
    std::string text;  // "max-request 1048576 -> 65536"
  };
  Options in_force;          // `running` with the run-time changes taken
  std::vector<Line> report;  // one line per setting that differs
};

ReloadPlan plan_reload(const Options& running, const Options& reread);

// Every option a reload compares, by name; the tests check that each
// option in --help has its row.
std::vector<std::string_view> reload_setting_names();

}  // namespace rngpool::server
