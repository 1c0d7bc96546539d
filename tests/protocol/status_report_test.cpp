// The STATUS report format of PROTOCOL.md §5.2: format, parse, round trip.

#include "rngpool/protocol/status_report.hpp"

#include <catch2/catch.hpp>

using namespace rngpool::protocol;

namespace {

const StatusReport kReport = {
    {"state", "ok"},        {"hwrng", "/dev/hwrng"}, {"hwrng_state", "failed-intermittent"},
    {"apt_window", "512"},  {"reason", "a: b: c"},   {"empty", ""},
};

}  // namespace

TEST_CASE("a report is key: value lines", "[status]")
{
  CHECK(format_status_report({{"state", "ok"}, {"uptime_s", "12"}}) == "state: ok\nuptime_s: 12\n");
  CHECK(format_status_report({}).empty());
}

TEST_CASE("format and parse round-trip", "[status]")
{
  const auto parsed = parse_status_report(format_status_report(kReport));
  REQUIRE(parsed);
  CHECK(*parsed == kReport);
}

TEST_CASE("the text-mode form with its closing empty line parses", "[status]")
{
  const auto parsed = parse_status_report(format_status_report(kReport) + "\n");
  REQUIRE(parsed);
  CHECK(*parsed == kReport);
}

TEST_CASE("a line break in a value cannot forge an entry", "[status]")
{
  const std::string text = format_status_report({{"hwrng", "/dev/x\nstate: ok\r"}});
  CHECK(text == "hwrng: /dev/x?state: ok?\n");
  const auto parsed = parse_status_report(text);
  REQUIRE(parsed);
  CHECK(parsed->size() == 1);
}

TEST_CASE("malformed reports are refused", "[status]")
{
  for (const char* text : {"state: ok",           // no final newline
                           "state ok\n",          // no separator
                           "state:ok\n",          // separator without space
                           ": ok\n",              // empty key
                           "State: ok\n",         // key outside [a-z0-9_]
                           "hw-rng: ok\n",
                           "state: ok\r\n",       // CR in a value
                           "state: ok\n\nx: y\n",  // empty line before the end
                           "\n\n"}) {
    INFO(text);
    CHECK_FALSE(parse_status_report(text));
  }
  CHECK(parse_status_report("")->empty());
}

TEST_CASE("find_value finds a key's value", "[status]")
{
  CHECK(find_value(kReport, "hwrng") == "/dev/hwrng");
  CHECK(find_value(kReport, "empty") == "");
  CHECK_FALSE(find_value(kReport, "missing"));
}
