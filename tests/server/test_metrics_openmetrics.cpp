// The OpenMetrics 1.0.0 exposition of a snapshot (issue 15 §1): the same
// family list as the text format 0.0.4, written as OpenMetrics says --
// counter families named without _total and their samples with it, build
// info an info family, TYPE/UNIT/HELP, canonical `le` values, "# EOF" last.
// A real OpenMetrics parser judges the real daemon's output in
// tests/integration.
#include "metrics_example.hpp"

#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

using namespace rngpool::server;
using namespace rngpool::server::metrics;
using rngpool::test::example;
using rngpool::test::has_line;
using rngpool::test::lines_of;

namespace {

std::string openmetrics(const Snapshot& s) { return render(s, Format::openmetrics); }

// A snapshot with the HTTP listener's counters too, so every family is there.
Snapshot full() {
  Snapshot s = example();
  s.seconds_since_hwrng_reseed = 3.0;
  s.http = HttpStats{.requests = 5, .connections_accepted = 6, .connections_refused = 7, .requests_rejected = 8};
  return s;
}

// (sample name, labels with `le` read as a number, value) of every sample.
using Point = std::tuple<std::string, std::map<std::string, std::string>, double>;

std::multiset<Point> points(const std::string& text) {
  static const std::regex sample(R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? (\S+)$)");
  static const std::regex label(R"(([a-zA-Z_][a-zA-Z0-9_]*)=\"([^\"]*)\")");
  std::multiset<Point> out;
  for (const std::string& line : lines_of(text)) {
    std::smatch m;
    if (line.starts_with("#"))
      continue;
    REQUIRE(std::regex_match(line, m, sample));
    std::map<std::string, std::string> labels;
    const std::string text_of_labels = m[3];
    for (auto it = std::sregex_iterator(text_of_labels.begin(), text_of_labels.end(), label);
         it != std::sregex_iterator(); ++it)
      labels[(*it)[1]] = (*it)[2];
    if (labels.count("le"))
      labels["le"] = std::to_string(std::stod(labels["le"]));
    out.emplace(m[1], labels, std::stod(m[4]));
  }
  return out;
}

}  // namespace

TEST_CASE("OpenMetrics names counter families without _total and every sample of theirs with it",
          "[metrics][openmetrics]") {
  const auto lines = lines_of(openmetrics(full()));
  std::size_t counters = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (!lines[i].starts_with("# TYPE ") || !lines[i].ends_with(" counter"))
      continue;
    ++counters;
    const std::string family = lines[i].substr(7, lines[i].size() - 7 - 8);
    INFO(family);
    CHECK_FALSE(family.ends_with("_total"));
    std::size_t samples = 0;
    for (std::size_t j = i + 1; j < lines.size() && !lines[j].starts_with("# TYPE "); ++j) {
      if (lines[j].starts_with("#"))
        continue;
      ++samples;
      INFO(lines[j]);
      CHECK((lines[j].starts_with(family + "_total ") || lines[j].starts_with(family + "_total{")));
    }
    CHECK(samples >= 1);
  }
  CHECK(counters == 21);  // every counter of the family list, the EGD socket's seven and the listener's four included
  const std::string text = openmetrics(full());
  CHECK(has_line(text, "# TYPE rngpool_requests counter"));
  CHECK(has_line(text, "# HELP rngpool_bytes_served Random bytes handed out."));
  CHECK(has_line(text, "rngpool_bytes_served_total 96"));
  CHECK(has_line(text, "rngpool_requests_total{frontend=\"binary\",status=\"OK\"} 1"));
  CHECK(has_line(text, "rngpool_health_test_failures_total{test=\"rct\",level=\"intermittent\"} 3"));
  CHECK(has_line(text, "rngpool_metrics_http_requests_total 5"));
}

TEST_CASE("OpenMetrics ends with # EOF and nothing after it", "[metrics][openmetrics]") {
  for (const Snapshot& s : {example(), full()}) {
    const std::string text = openmetrics(s);
    CHECK(text.ends_with("\n# EOF\n"));
    const auto lines = lines_of(text);
    REQUIRE_FALSE(lines.empty());
    CHECK(lines.back() == "# EOF");
    for (std::size_t i = 0; i + 1 < lines.size(); ++i) {
      INFO(lines[i]);
      CHECK(lines[i] != "# EOF");
      CHECK_FALSE(lines[i].empty());  // OpenMetrics forbids blank lines
    }
  }
  CHECK(content_type(Format::openmetrics) == "application/openmetrics-text; version=1.0.0; charset=utf-8");
}

TEST_CASE("OpenMetrics histograms: canonical le, +Inf, _sum and _count, the unit named", "[metrics][openmetrics]") {
  const std::string text = openmetrics(example());
  CHECK(has_line(text, "# TYPE rngpool_request_size_bytes histogram"));
  CHECK(has_line(text, "# UNIT rngpool_request_size_bytes bytes"));
  CHECK(has_line(text, "rngpool_request_size_bytes_bucket{le=\"32.0\"} 1"));
  CHECK(has_line(text, "rngpool_request_size_bytes_bucket{le=\"256.0\"} 2"));
  CHECK(has_line(text, "rngpool_request_size_bytes_bucket{le=\"262144.0\"} 2"));
  CHECK(has_line(text, "rngpool_request_size_bytes_bucket{le=\"1.048576e+06\"} 2"));  // Go's %g from 1e+06 up
  CHECK(has_line(text, "rngpool_request_size_bytes_bucket{le=\"+Inf\"} 2"));
  CHECK(has_line(text, "rngpool_request_size_bytes_sum 96"));
  CHECK(has_line(text, "rngpool_request_size_bytes_count 2"));
  CHECK(has_line(text, "# UNIT rngpool_request_duration_seconds seconds"));
  CHECK(has_line(text, "rngpool_request_duration_seconds_bucket{le=\"1e-05\"} 0"));
  CHECK(has_line(text, "rngpool_request_duration_seconds_bucket{le=\"5e-05\"} 1"));
  CHECK(has_line(text, "rngpool_request_duration_seconds_bucket{le=\"0.0001\"} 1"));  // %g's fixed form from 1e-4
  CHECK(has_line(text, "rngpool_request_duration_seconds_bucket{le=\"0.00025\"} 1"));
  CHECK(has_line(text, "rngpool_request_duration_seconds_bucket{le=\"1.0\"} 1"));
  CHECK(has_line(text, "rngpool_request_duration_seconds_bucket{le=\"+Inf\"} 2"));
  CHECK(has_line(text, "rngpool_request_duration_seconds_sum 2.00002"));
  CHECK(has_line(text, "rngpool_request_duration_seconds_count 2"));
}

TEST_CASE("OpenMetrics metadata: TYPE, UNIT, HELP, then the family's samples only", "[metrics][openmetrics]") {
  const auto lines = lines_of(openmetrics(full()));
  std::string family;
  std::string last;  // the previous metadata keyword of this family
  std::set<std::string> families;
  for (const std::string& line : lines) {
    INFO(line);
    if (line == "# EOF")
      break;
    if (line.starts_with("# TYPE ")) {
      family = line.substr(7, line.find(' ', 7) - 7);
      CHECK(families.insert(family).second);  // families are not interleaved
      last = "TYPE";
      continue;
    }
    if (line.starts_with("# UNIT ") || line.starts_with("# HELP ")) {
      const std::string keyword = line.substr(2, 4);
      CHECK(line.substr(7, family.size() + 1) == family + " ");
      CHECK((last == "TYPE" || (last == "UNIT" && keyword == "HELP")));
      last = keyword;
      if (keyword == "UNIT")  // the unit is the name's suffix
        CHECK(family.ends_with("_" + line.substr(7 + family.size() + 1)));
      continue;
    }
    CHECK_FALSE(line.starts_with("#"));
    CHECK(line.starts_with(family));
    last = "sample";
  }
  CHECK(has_line(openmetrics(full()), "# UNIT rngpool_uptime_seconds seconds"));
}

TEST_CASE("OpenMetrics writes build info as an info family, gauges as the text format does",
          "[metrics][openmetrics]") {
  const std::string om = openmetrics(full());
  const std::string text = render(full(), Format::text);
  CHECK(has_line(om, "# TYPE rngpool_build info"));
  CHECK(has_line(om, "rngpool_build_info{version=\"1.2.3\"} 1"));
  CHECK_THAT(om, !Catch::Contains("# UNIT rngpool_build "));
  for (const char* gauge : {"rngpool_state", "rngpool_hwrng_state", "rngpool_hwrng_in_key", "rngpool_key_memory_locked",
                            "rngpool_uptime_seconds", "rngpool_last_reseed_age_seconds",
                            "rngpool_last_hwrng_contribution_age_seconds", "rngpool_clients_connected"}) {
    INFO(gauge);
    CHECK(has_line(om, std::string("# TYPE ") + gauge + " gauge"));
    for (const std::string& line : lines_of(text))
      if (line.starts_with(std::string(gauge) + " ") || line.starts_with(std::string(gauge) + "{"))
        CHECK(has_line(om, line));
  }
}

TEST_CASE("Both formats report the same samples from one snapshot", "[metrics][openmetrics]") {
  for (const Snapshot& s : {example(), full()}) {
    const auto om = points(openmetrics(s));
    CHECK(om == points(render(s, Format::text)));
    CHECK(om.size() > 60);
  }
}

TEST_CASE("OpenMetrics label values are escaped as its ABNF says", "[metrics][openmetrics]") {
  Snapshot s = example();
  s.version = "a\"b\\c\nd";
  CHECK(has_line(openmetrics(s), "rngpool_build_info{version=\"a\\\"b\\\\c\\nd\"} 1"));
}

TEST_CASE("HELP text is escaped as each format says, label values alike in both", "[metrics][openmetrics]") {
  const std::string text = "a\"b\\c\nd";
  CHECK(escape(text, Escaping::label_value) == "a\\\"b\\\\c\\nd");
  CHECK(escape(text, Escaping::help_openmetrics) == "a\\\"b\\\\c\\nd");  // OpenMetrics' escaped-string
  CHECK(escape(text, Escaping::help_text) == "a\"b\\\\c\\nd");           // 0.0.4 leaves '"' in HELP
  CHECK(escape("plain", Escaping::help_text) == "plain");
}
