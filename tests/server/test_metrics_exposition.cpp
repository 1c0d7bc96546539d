// The exposition of a snapshot (issue 15 §1): names, labels, units, every
// known label combination present from the start, histograms cumulative,
// gauges without a time to measure from left out, label values escaped.
// promtool judges the real daemon's output in tests/integration.
#include "metrics_example.hpp"

#include <sstream>
#include <string>

using namespace rngpool::server;
using namespace rngpool::server::metrics;
using rngpool::test::example;
using rngpool::test::has_line;

TEST_CASE("The exposition names every metric with its labels", "[metrics]") {
  const std::string text = render(example());
  CHECK(has_line(text, "rngpool_build_info{version=\"1.2.3\"} 1"));
  CHECK(has_line(text, "rngpool_state{state=\"degraded\"} 1"));
  CHECK(has_line(text, "rngpool_state{state=\"ready\"} 0"));
  CHECK(has_line(text, "rngpool_hwrng_state{state=\"failed-permanent\"} 1"));
  CHECK(has_line(text, "rngpool_hwrng_bytes_tested_total 5000"));
  CHECK(has_line(text, "rngpool_hwrng_bytes_used_total 1000"));
  CHECK(has_line(text, "rngpool_health_test_failures_total{test=\"rct\",level=\"intermittent\"} 3"));
  CHECK(has_line(text, "rngpool_health_test_failures_total{test=\"apt\",level=\"intermittent\"} 1"));
  CHECK(has_line(text, "rngpool_health_test_failures_total{test=\"rct\",level=\"permanent\"} 1"));
  CHECK(has_line(text, "rngpool_health_test_failures_total{test=\"apt\",level=\"permanent\"} 0"));
  CHECK(has_line(text, "rngpool_reseeds_total{with_hwrng=\"true\"} 2"));
  CHECK(has_line(text, "rngpool_reseeds_total{with_hwrng=\"false\"} 5"));
  CHECK(has_line(text, "rngpool_last_reseed_age_seconds 1.5"));
  CHECK(has_line(text, "rngpool_requests_total{frontend=\"binary\",status=\"OK\"} 1"));
  CHECK(has_line(text, "rngpool_requests_total{frontend=\"text\",status=\"TOO_LARGE\"} 1"));
  CHECK(has_line(text, "rngpool_requests_total{frontend=\"egd\",status=\"OK\"} 0"));  // present before EGD serves
  CHECK(has_line(text, "rngpool_bytes_served_total 96"));
  CHECK(has_line(text, "rngpool_connections_refused_total{reason=\"max_connections_per_uid\"} 4"));
  CHECK(has_line(text, "rngpool_connections_refused_total{reason=\"out_of_descriptors\"} 0"));
  CHECK(has_line(text, "rngpool_clients_connected 2"));
  CHECK(has_line(text, "rngpool_uptime_seconds 12.5"));
  CHECK(has_line(text, "# TYPE rngpool_requests_total counter"));
  CHECK(has_line(text, "# TYPE rngpool_state gauge"));
}

TEST_CASE("The EGD socket's counters are families of their own, outcomes as labels", "[metrics][egd]") {
  const std::string text = render(example());
  CHECK(has_line(text, "rngpool_egd_connections_accepted_total 3"));
  CHECK(has_line(text, "rngpool_egd_connections_refused_total 1"));
  CHECK(has_line(text, "rngpool_egd_requests_total 9"));
  CHECK(has_line(text, "rngpool_egd_bytes_served_total 255"));
  CHECK(has_line(text, "rngpool_egd_adds_total{result=\"accepted\"} 2"));
  CHECK(has_line(text, "rngpool_egd_adds_total{result=\"refused\"} 1"));
  CHECK(has_line(text, "rngpool_egd_bytes_added_total 10"));
  CHECK(has_line(text, "rngpool_egd_connections_closed_total{reason=\"bad_command\"} 4"));
  CHECK(has_line(text, "rngpool_egd_connections_closed_total{reason=\"permission\"} 5"));
  CHECK(has_line(text, "rngpool_egd_connections_closed_total{reason=\"not_ready\"} 6"));
  CHECK(has_line(text, "rngpool_egd_connections_closed_total{reason=\"hwrng_unavailable\"} 7"));
  CHECK(has_line(text, "rngpool_auxiliary_bytes_mixed_total 11"));
  CHECK(has_line(text, "# TYPE rngpool_egd_adds_total counter"));
  // Present at 0 before the first EGD event, like every series.
  const std::string idle = render(rngpool::server::metrics::Snapshot{});
  CHECK(has_line(idle, "rngpool_egd_connections_closed_total{reason=\"not_ready\"} 0"));
  CHECK(has_line(idle, "rngpool_egd_adds_total{result=\"refused\"} 0"));
  CHECK(has_line(idle, "rngpool_auxiliary_bytes_mixed_total 0"));
}

TEST_CASE("Ages are named with the unit last", "[metrics]") {
  const std::string text = render(example());
  CHECK(has_line(text, "# TYPE rngpool_last_reseed_age_seconds gauge"));
  CHECK_THAT(text, !Catch::Contains("seconds_since"));
}

TEST_CASE("Histograms are cumulative, in base units, with +Inf, _sum and _count", "[metrics]") {
  const std::string text = render(example());
  CHECK(has_line(text, "# TYPE rngpool_request_size_bytes histogram"));
  CHECK(has_line(text, "rngpool_request_size_bytes_bucket{le=\"32\"} 1"));
  CHECK(has_line(text, "rngpool_request_size_bytes_bucket{le=\"256\"} 2"));
  CHECK(has_line(text, "rngpool_request_size_bytes_bucket{le=\"+Inf\"} 2"));
  CHECK(has_line(text, "rngpool_request_size_bytes_sum 96"));
  CHECK(has_line(text, "rngpool_request_size_bytes_count 2"));
  CHECK(has_line(text, "rngpool_request_duration_seconds_bucket{le=\"5e-05\"} 1"));
  CHECK(has_line(text, "rngpool_request_duration_seconds_bucket{le=\"1\"} 1"));  // 2 s is above every bound
  CHECK(has_line(text, "rngpool_request_duration_seconds_bucket{le=\"+Inf\"} 2"));
  CHECK(has_line(text, "rngpool_request_duration_seconds_sum 2.00002"));
}

TEST_CASE("A gauge with no time to measure from is left out, not 0", "[metrics]") {
  Snapshot s = example();
  CHECK_THAT(render(s), !Catch::Contains("rngpool_last_hwrng_contribution_age_seconds"));
  s.seconds_since_reseed.reset();
  CHECK_THAT(render(s), !Catch::Contains("rngpool_last_reseed_age_seconds"));
  s.seconds_since_hwrng_reseed = 3.0;
  CHECK(has_line(render(s), "rngpool_last_hwrng_contribution_age_seconds 3"));
}

TEST_CASE("The HTTP listener's own counters appear only when it runs", "[metrics]") {
  Snapshot s = example();
  CHECK_THAT(render(s), !Catch::Contains("rngpool_metrics_http"));
  s.http = HttpStats{.requests = 5, .connections_accepted = 6, .connections_refused = 7, .requests_rejected = 8};
  const std::string text = render(s);
  CHECK(has_line(text, "rngpool_metrics_http_requests_total 5"));
  CHECK(has_line(text, "rngpool_metrics_http_connections_refused_total 7"));
  CHECK(has_line(text, "rngpool_metrics_http_requests_rejected_total 8"));
}

TEST_CASE("Label values are escaped as the text format says", "[metrics]") {
  Snapshot s = example();
  s.version = "a\"b\\c\nd";
  CHECK(has_line(render(s), "rngpool_build_info{version=\"a\\\"b\\\\c\\nd\"} 1"));
}

TEST_CASE("Every family has HELP and TYPE before its samples", "[metrics]") {
  std::istringstream in(render(example()));
  std::string family;
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("# HELP ")) {
      family = line.substr(7, line.find(' ', 7) - 7);
      continue;
    }
    if (line.starts_with("# TYPE ")) {
      CHECK(line.substr(7, family.size()) == family);
      continue;
    }
    INFO(line);
    CHECK(line.starts_with(family));
  }
}

TEST_CASE("The text format keeps 0.0.4's names: build_info a gauge, no EOF, no UNIT", "[metrics]") {
  const std::string text = render(example(), Format::text);
  CHECK(text == render(example()));
  CHECK(has_line(text, "# TYPE rngpool_build_info gauge"));
  CHECK(has_line(text, "# TYPE rngpool_bytes_served_total counter"));
  CHECK(has_line(text, "# HELP rngpool_bytes_served_total Random bytes handed out."));
  CHECK_THAT(text, !Catch::Contains("# EOF") && !Catch::Contains("# UNIT"));
  CHECK(content_type(Format::text) == "text/plain; version=0.0.4; charset=utf-8");
}
