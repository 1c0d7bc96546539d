// --metrics-listen: off by default, loopback unless an address is named,
// IPv6 in brackets, and a clear refusal (exit 2) for anything else.
#include "host/options.hpp"
#include "host/reload.hpp"

#include <catch2/catch.hpp>

using namespace rngpool::server;

namespace {

std::variant<Options, OptionsExit> parse(std::vector<std::string> args) {
  return parse_options(args, "/nonexistent/rngpoold.conf");
}

}  // namespace

TEST_CASE("metrics-listen is off by default and PORT alone means loopback", "[options][metrics]") {
  CHECK_FALSE(std::get<Options>(parse({})).metrics_listen);
  const auto listen = std::get<Options>(parse({"--metrics-listen", "10180"})).metrics_listen;
  REQUIRE(listen);
  CHECK(listen->address == "127.0.0.1");
  CHECK(listen->port == 10180);
}

TEST_CASE("metrics-listen takes IPv4 and bracketed IPv6 addresses", "[options][metrics]") {
  auto v4 = std::get<Options>(parse({"--metrics-listen", "0.0.0.0:9"})).metrics_listen;
  REQUIRE(v4);
  CHECK(v4->address == "0.0.0.0");
  CHECK(v4->port == 9);
  auto v6 = std::get<Options>(parse({"--metrics-listen", "[::1]:0"})).metrics_listen;
  REQUIRE(v6);
  CHECK(v6->address == "::1");
  CHECK(v6->port == 0);
}

TEST_CASE("metrics-listen refuses what is not [ADDR:]PORT", "[options][metrics]") {
  for (const char* bad : {"", "x", "65536", "localhost:80", "::1:80", "[::1]", "127.0.0.1:", "1.2.3:4", "[1.2.3.4]:5"}) {
    INFO(bad);
    auto result = parse({"--metrics-listen", bad});
    REQUIRE(std::holds_alternative<OptionsExit>(result));
    const auto& exit = std::get<OptionsExit>(result);
    CHECK(exit.code == 2);
    CHECK_THAT(exit.message, Catch::Contains("--metrics-listen must be"));
  }
}

TEST_CASE("A reload reports a changed --metrics-listen as needing a restart", "[reload][metrics]") {
  const Options running = std::get<Options>(parse({"--metrics-listen", "10180"}));
  const Options reread = std::get<Options>(parse({"--metrics-listen", "[::1]:10181"}));
  const ReloadPlan plan = plan_reload(running, reread);
  CHECK(plan.in_force.metrics_listen == running.metrics_listen);
  REQUIRE(plan.report.size() == 1);
  CHECK(plan.report[0].text == "metrics-listen 127.0.0.1:10180 -> [::1]:10181 needs a restart; not applied");
}
