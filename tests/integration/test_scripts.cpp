// The developer scripts' own options (issue 9 §16): `scripts/bench --help`
// printed nothing of the kind; it installed, built and ran the pool
// benchmark.  Now it prints usage and exits 0 without building anything.
#include "rngpool/test/support.hpp"

#include <catch2/catch.hpp>

#include <filesystem>

using namespace rngpool::test;
namespace fs = std::filesystem;

TEST_CASE("scripts/bench --help prints its usage and bench_service's options, and exits 0", "[scripts]") {
  const fs::path build = RNGPOOL_BUILD_DIR;
  const bool has_service = fs::exists(build / "bench" / "bench_service");
  for (const char* option : {"--help", "-h"}) {
    // `timeout`: the old script went on to a build and a long benchmark.
    auto result = run_command("RNGPOOL_BUILD=" + shell_quote(build.native()) + " timeout 60 " +
                              shell_quote((fs::path(RNGPOOL_SOURCE_DIR) / "scripts" / "bench").native()) + " " +
                              option);
    INFO(option << "\nstdout:\n" << result.out << "\nstderr:\n" << result.err);
    CHECK(result.exit_code == 0);
    CHECK_THAT(result.out, Catch::StartsWith("usage: scripts/bench") && Catch::Contains("--quick"));
    CHECK_THAT(result.out, !Catch::Contains("# rngpool benchmarks"));
    if (has_service) {
      CHECK_THAT(result.out, Catch::Contains("usage: bench_service") && Catch::Contains("--sections"));
    } else {
      WARN("this build has no bench_service (RNGPOOL_BENCH=OFF): only the hint to build it is checked");
      CHECK_THAT(result.out, Catch::Contains("run scripts/bench once to build it"));
    }
  }
}

// Each benchmark binary: --help is its usage, never a run (bench_local and
// bench_openssl ignored a lone last argument and ran the whole benchmark),
// and an option it does not know is an error, not a default run.
TEST_CASE("every benchmark binary answers --help with its usage and refuses an unknown option", "[scripts]") {
  const fs::path bench = fs::path(RNGPOOL_BUILD_DIR) / "bench";
  if (!fs::exists(bench / "bench_local")) {
    WARN("this build has no benchmarks (RNGPOOL_BENCH=OFF): nothing to check");
    return;
  }
  for (const char* name : {"bench_local", "bench_openssl", "bench_egd", "bench_wake", "bench_pool", "bench_service"}) {
    const std::string program = shell_quote((bench / name).native());
    const auto help = run_command("timeout 20 " + program + " --help");
    INFO(name << " --help\nstdout:\n" << help.out << "\nstderr:\n" << help.err);
    CHECK(help.exit_code == 0);
    CHECK_THAT(help.out, Catch::StartsWith("usage:"));
    const auto unknown = run_command("timeout 20 " + program + " --no-such-option");
    INFO(name << " --no-such-option\nstderr:\n" << unknown.err);
    CHECK(unknown.exit_code != 0);
    CHECK(unknown.exit_code != 124);  // refused, not run until the timeout
    const auto lone = run_command("timeout 20 " + program + " --reps");
    INFO(name << " --reps (no value)\nstderr:\n" << lone.err);
    CHECK(lone.exit_code != 0);
    CHECK(lone.exit_code != 124);
  }
}
