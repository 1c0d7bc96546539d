// A real Prometheus (Debian's `prometheus`) scrapes the daemon (issue 15 §3):
// started on loopback with a temporary config and data dir, a 1 s scrape
// interval and the shipped rules; it negotiates OpenMetrics 1.0.0 (its
// default Accept asks for it first) and its metadata says it parsed that;
// after a stuck-hwrng burst through the FIFO its HTTP API shows the bytes
// served, the RCT failures, and the permanent-failure alert pending.
#include "metrics_support.hpp"

#include <atomic>
#include <fstream>
#include <memory>
#include <optional>
#include <regex>

using namespace rngpool;
using namespace rngpool::test;
using namespace std::chrono_literals;

namespace {

// A healthy hwrng that turns stuck on one byte while `stuck` is set.
FifoFeeder::Fill switchable(std::shared_ptr<std::atomic<bool>> stuck) {
  auto healthy = FifoFeeder::random_bytes();
  return [=](std::span<std::uint8_t> chunk) {
    if (stuck->load())
      std::fill(chunk.begin(), chunk.end(), std::uint8_t{0x5a});
    else
      healthy(chunk);
  };
}

struct Prometheus {
  TempDir dir{"rngpool-prom"};
  std::uint16_t port = free_tcp_port();
  std::unique_ptr<ChildProcess> process;

  explicit Prometheus(std::uint16_t target) {
    const auto config = dir.path() / "prometheus.yml";
    std::ofstream(config) << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                          << "rule_files:\n  - " << RNGPOOL_SOURCE_DIR << "/contrib/prometheus/rngpool.rules.yml\n"
                          << "scrape_configs:\n  - job_name: rngpool\n    static_configs:\n"
                          << "      - targets: ['127.0.0.1:" << target << "']\n";
    process = ChildProcess::logged({"prometheus", "--config.file=" + config.native(),
                                    "--storage.tsdb.path=" + (dir.path() / "data").native(),
                                    "--web.listen-address=127.0.0.1:" + std::to_string(port), "--log.level=warn"},
                                   child_environment(), (dir.path() / "log").native());
  }

  std::string log() const {
    std::ifstream in(dir.path() / "log");
    return {std::istreambuf_iterator<char>(in), {}};
  }

  // The first value of an instant query, when there is one.
  std::optional<double> query(const std::string& promql) const {
    HttpReply reply;
    try {
      reply = http_get(port, "/api/v1/query?query=" + url_encode(promql), 5s);
    } catch (const std::system_error&) {
      return std::nullopt;  // not listening yet
    }
    static const std::regex value(R"re("value":\[[0-9.e+]+,"([^"]+)"\])re");
    std::smatch match;
    if (reply.status != 200 || !std::regex_search(reply.body, match, value))
      return std::nullopt;
    return std::stod(match[1]);
  }

  // The metadata Prometheus keeps of a metric family, as its API gives it.
  std::string metadata(const std::string& family) const {
    const HttpReply reply = http_get(port, "/api/v1/metadata?metric=" + url_encode(family), 5s);
    return reply.status == 200 ? reply.body : "";
  }

  // Waits until `promql` has a value above `floor`.
  bool sees(const std::string& promql, double floor = 0) const {
    return eventually([&] { return query(promql).value_or(floor) > floor; }, 40s, 250ms);
  }
};

}  // namespace

TEST_CASE("A real Prometheus scrapes bytes served and a stuck-hwrng burst", "[metrics][prometheus]") {
  REQUIRE(run_command("command -v prometheus").exit_code == 0);  // scripts/deps.sh installs it
  TempDir dir{"rngpool-prom-hwrng"};
  auto stuck = std::make_shared<std::atomic<bool>>(false);
  FifoFeeder feeder(dir.path() / "hwrng", switchable(stuck));
  // A reseed each second keeps the reader reading, so the burst is read soon.
  TestDaemon daemon({.hwrng = HwrngFeed::path, .hwrng_path = feeder.path(),
                     .args = metrics_args({"--reseed-interval", "1"})});
  Prometheus prometheus(metrics_port(daemon));
  INFO(prometheus.log() << daemon.log());

  TestConnection connection(daemon.socket_path());
  for (int i = 0; i < 10; ++i)
    REQUIRE(get_random(connection, 32).payload.size() == 32);
  CHECK(prometheus.sees("rngpool_bytes_served_total", 319));
  // Prometheus asks for OpenMetrics first and got it: the scrape is up, and
  // the family metadata is OpenMetrics' (rngpool_build an info family, the
  // counter named without _total); 0.0.4 has neither name.
  CHECK(prometheus.query("up{job=\"rngpool\"}") == 1.0);
  CHECK(prometheus.query("rngpool_build_info{version=\"" RNGPOOL_VERSION "\"}") == 1.0);
  CHECK_THAT(prometheus.metadata("rngpool_build"), Catch::Contains(R"("type":"info")"));
  CHECK_THAT(prometheus.metadata("rngpool_bytes_served"), Catch::Contains(R"("type":"counter")"));
  CHECK_THAT(prometheus.metadata("rngpool_request_duration_seconds"), Catch::Contains(R"("unit":"seconds")"));
  CHECK(prometheus.query("sum(rngpool_health_test_failures_total)") == 0.0);

  stuck->store(true);
  CHECK(prometheus.sees("sum(rngpool_health_test_failures_total{test=\"rct\"})"));
  CHECK(prometheus.sees("rngpool_hwrng_state{state=\"failed-permanent\"}"));
  // The shipped rule sees it too; `for: 1m` keeps it pending here.
  CHECK(prometheus.sees("count(ALERTS{alertname=\"RngpoolHwrngPermanentFailure\"})"));
  stuck->store(false);
}
