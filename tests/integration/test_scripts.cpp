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
