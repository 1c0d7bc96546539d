// GET /metrics in OpenMetrics 1.0.0 for a scraper that asks for it (issue
// 15 §1): the real daemon, asked with the Accept header Prometheus 2.42
// sends, answers with OpenMetrics' content type and a body that a real
// OpenMetrics parser (prometheus_client's, Debian's
// python3-prometheus-client) accepts, with the samples the text format
// 0.0.4 has; any other Accept gets 0.0.4 as before.  The real Prometheus
// scraping it is tests/integration/test_metrics_prometheus.cpp.
#include "metrics_support.hpp"

#include <set>
#include <sstream>

using namespace rngpool;
using namespace rngpool::test;

namespace {

// What Debian 12's prometheus 2.42 sends by default.
constexpr const char* kPrometheusAccept =
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
    "text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

constexpr const char* kOpenMetricsType = "Content-Type: application/openmetrics-text; version=1.0.0; charset=utf-8";
constexpr const char* kTextType = "Content-Type: text/plain; version=0.0.4; charset=utf-8";

HttpReply get_metrics(std::uint16_t port, const std::string& headers) {
  return http_exchange(port, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers + "Connection: close\r\n\r\n");
}

HttpReply get_with_accept(std::uint16_t port, const std::string& accept) {
  return get_metrics(port, "Accept: " + accept + "\r\n");
}

// Debian's parser, on Debian's interpreter: a pyenv or venv python3 first
// on PATH does not see /usr/lib/python3/dist-packages.
CommandResult openmetrics_check(const std::string& exposition) {
  return run_command("/usr/bin/python3 " + shell_quote(std::string(RNGPOOL_SOURCE_DIR) +
                                                       "/tests/integration/openmetrics_check.py"),
                     exposition);
}

struct Family {
  std::string type;
  std::string name;
  std::set<std::string> samples;
};

std::vector<Family> families_of(const std::string& checker_output) {
  std::vector<Family> out;
  std::istringstream in(checker_output);
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    Family family;
    words >> family.type >> family.name;
    for (std::string sample; words >> sample;)
      family.samples.insert(sample);
    out.push_back(std::move(family));
  }
  return out;
}

void some_traffic(const TestDaemon& daemon) {
  TestConnection connection(daemon.socket_path());
  for (int i = 0; i < 3; ++i)
    REQUIRE(get_random(connection, 32).header.status == protocol::Status::ok);
}

}  // namespace

TEST_CASE("The OpenMetrics check rejects what is not OpenMetrics", "[metrics][openmetrics]") {
  // It must be able to fail, or passing means nothing.
  const CommandResult good = openmetrics_check("# TYPE a counter\na_total 1\n# EOF\n");
  INFO(good.out << good.err);
  REQUIRE(good.exit_code == 0);  // scripts/deps.sh installs python3-prometheus-client
  CHECK(good.out == "counter a a_total\n");
  CHECK(openmetrics_check("# TYPE a counter\na_total 1\n").exit_code == 1);            // no # EOF
  CHECK(openmetrics_check("# TYPE a counter\na_total 1\n# EOF\nb 1\n").exit_code == 1);  // a line after it
  CHECK(openmetrics_check("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_count 1\nh_sum 1\n# EOF\n").exit_code ==
        1);  // no +Inf bucket
}

TEST_CASE("Prometheus' Accept gets OpenMetrics that a real parser accepts, with the 0.0.4 samples",
          "[metrics][openmetrics]") {
  TestDaemon daemon({.args = metrics_args()});
  some_traffic(daemon);
  const std::uint16_t port = metrics_port(daemon);
  const HttpReply reply = get_with_accept(port, kPrometheusAccept);
  INFO(reply.head << "\n\n" << reply.body);
  REQUIRE(reply.status == 200);
  CHECK_THAT(reply.head, Catch::Contains(kOpenMetricsType));
  CHECK_THAT(reply.head, Catch::Contains("Vary: Accept"));
  CHECK(reply.body.ends_with("\n# EOF\n"));
  CHECK(reply.body.find("# EOF") == reply.body.size() - 6);

  const CommandResult check = openmetrics_check(reply.body);
  INFO(check.out << check.err);
  REQUIRE(check.exit_code == 0);
  const auto families = families_of(check.out);
  std::set<std::string> sample_names;
  std::map<std::string, std::string> type_of;
  for (const Family& family : families) {
    INFO(family.type << " " << family.name);
    CHECK(family.type != "unknown");  // the parser files a sample it cannot place under "unknown"
    CHECK_FALSE(family.samples.empty());
    if (family.type == "counter")
      CHECK(family.samples == std::set<std::string>{family.name + "_total"});
    if (family.type == "histogram")
      CHECK(family.samples == std::set<std::string>{family.name + "_bucket", family.name + "_count",
                                                    family.name + "_sum"});
    type_of[family.name] = family.type;
    sample_names.insert(family.samples.begin(), family.samples.end());
  }
  CHECK(type_of["rngpool_requests"] == "counter");
  CHECK(type_of["rngpool_bytes_served"] == "counter");
  CHECK(type_of["rngpool_health_test_failures"] == "counter");
  CHECK(type_of["rngpool_build"] == "info");
  CHECK(type_of["rngpool_state"] == "gauge");
  CHECK(type_of["rngpool_request_duration_seconds"] == "histogram");

  // The samples 0.0.4 has, under the same names, with the same values on
  // an idle daemon.
  const HttpReply text = http_get(port, "/metrics");
  REQUIRE(text.status == 200);
  std::set<std::string> text_names;
  for (const Sample& s : parse_exposition(text.body))
    text_names.insert(s.name);
  CHECK(sample_names == text_names);
  const auto om = parse_exposition(reply.body);
  const auto zero_zero_four = parse_exposition(text.body);
  CHECK(metric_sum(om, "rngpool_bytes_served_total") == 96);
  CHECK(metric_sum(om, "rngpool_bytes_served_total") == metric_sum(zero_zero_four, "rngpool_bytes_served_total"));
  CHECK(metric_sum(om, "rngpool_requests_total", {{"frontend", "binary"}, {"status", "OK"}}) == 3);
  CHECK(metric_sum(om, "rngpool_request_size_bytes_bucket", {{"le", "32.0"}}) == 3);
  CHECK(metric_sum(zero_zero_four, "rngpool_request_size_bytes_bucket", {{"le", "32"}}) == 3);
  CHECK(metric_sum(om, "rngpool_build_info", {{"version", RNGPOOL_VERSION}}) == 1);
}

TEST_CASE("Any other Accept gets the text format 0.0.4", "[metrics][openmetrics]") {
  TestDaemon daemon({.hwrng = HwrngFeed::none, .args = metrics_args()});
  const std::uint16_t port = metrics_port(daemon);
  const std::string asks[] = {
      "",  // no Accept at all
      "Accept: */*\r\n",
      "Accept: text/plain;version=0.0.4\r\n",
      "Accept: text/plain;version=0.0.4, application/openmetrics-text;version=1.0.0;q=0.4\r\n",
      "Accept: application/openmetrics-text;version=0.0.1\r\n",
      "Accept: application/openmetrics-text;q=2\r\n",  // malformed
      "Accept: application/openmetrics-text;version=\"1.0.0\r\n",  // malformed
  };
  for (const std::string& headers : asks) {
    INFO(headers);
    const HttpReply reply = get_metrics(port, headers);
    INFO(reply.head);
    REQUIRE(reply.status == 200);
    CHECK_THAT(reply.head, Catch::Contains(kTextType));
    CHECK_THAT(reply.body, !Catch::Contains("# EOF"));
    CHECK_THAT(reply.body, Catch::Contains("# TYPE rngpool_requests_total counter"));
  }
}

TEST_CASE("Accept fields given twice are read as one list", "[metrics][openmetrics]") {
  TestDaemon daemon({.hwrng = HwrngFeed::none, .args = metrics_args()});
  const HttpReply reply =
      get_metrics(metrics_port(daemon), "Accept: text/plain;version=0.0.4;q=0.5\r\nAccept: application/openmetrics-text\r\n");
  INFO(reply.head);
  REQUIRE(reply.status == 200);
  CHECK_THAT(reply.head, Catch::Contains(kOpenMetricsType));
  CHECK(reply.body.ends_with("# EOF\n"));
}

TEST_CASE("METRICS on the Unix socket stays the text format 0.0.4", "[metrics][openmetrics]") {
  TestDaemon daemon({.hwrng = HwrngFeed::none, .args = metrics_args()});
  const std::string text = nc_transcript(daemon.socket_path(), "METRICS\n").out;
  CHECK_THAT(text, Catch::Contains("# TYPE rngpool_requests_total counter"));
  CHECK_THAT(text, Catch::Contains("# TYPE rngpool_build_info gauge"));
  CHECK_THAT(text, !Catch::Contains("# EOF"));
  CHECK(text.ends_with("\n\n"));
}
