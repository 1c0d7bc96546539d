// The metrics against the real daemon (issue 15 §1, §3): METRICS and STATUS
// agree at the same instant, counters never go backwards (a SIGHUP reload
// included), GET /metrics serves the same families, promtool accepts the
// output and the shipped alert rules.
#include "metrics_support.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>

#include <algorithm>
#include <memory>
#include <set>

using namespace rngpool;
using namespace rngpool::test;
using protocol::Status;

namespace {

// Healthy bytes first -- the start-up test passes and the hwrng enters the
// key -- then one stuck byte: the RCT trips at both levels, the reader stops
// for good, and the daemon's counters stand still.
FifoFeeder::Fill healthy_then_stuck(std::size_t healthy_bytes) {
  auto written = std::make_shared<std::size_t>(0);
  auto healthy = FifoFeeder::random_bytes();
  return [=](std::span<std::uint8_t> chunk) {
    if (*written < healthy_bytes)
      healthy(chunk);
    else
      std::fill(chunk.begin(), chunk.end(), std::uint8_t{0x5a});
    *written += chunk.size();
  };
}

struct StoppedHwrng {
  TempDir dir{"rngpool-metrics"};
  FifoFeeder feeder{dir.path() / "hwrng", healthy_then_stuck(64 * 1024)};
  TestDaemon daemon{{.hwrng = HwrngFeed::path,
                     .hwrng_path = feeder.path(),
                     .args = metrics_args({"--reseed-interval", "86400"})}};

  StoppedHwrng() {
    protocol::StatusReport report;
    const bool stopped = eventually([&] {
      report = status_report(daemon.socket_path());
      return status_value(report, "hwrng_state") == "failed-permanent";
    });
    INFO(protocol::format_status_report(report) << daemon.log());
    REQUIRE(stopped);
  }
};

// Lines up to the next empty one.
std::string block(TestConnection& connection) {
  std::string text;
  for (std::string line; !(line = connection.read_line()).empty();)
    text += line + "\n";
  return text;
}

// Some of each kind of request, so no counter is trivially 0.
void traffic(const TestDaemon& daemon) {
  TestConnection binary(daemon.socket_path());
  for (int i = 0; i < 3; ++i)
    REQUIRE(get_random(binary, 32).header.status == Status::ok);
  REQUIRE(get_random(binary, 4000).header.status == Status::ok);
  REQUIRE(get_random(binary, 2u << 20).header.status == Status::too_large);
  CHECK(nc_transcript(daemon.socket_path(), "HEX 8\nFOO\n").exit_code == 0);
}

// STATUS counters compared with exposition values, which are doubles
// (exact below 2^53, far beyond what a test counts).
double number(const protocol::StatusReport& report, const char* key) {
  return static_cast<double>(status_number(report, key));
}

}  // namespace

TEST_CASE("METRICS and STATUS taken back to back agree on every counter", "[metrics]") {
  StoppedHwrng idle;
  traffic(idle.daemon);
  TestConnection connection(idle.daemon.socket_path());
  connection.send("METRICS\nSTATUS\n");
  const std::string metrics = block(connection);
  const auto report = protocol::parse_status_report(block(connection) + "\n");
  REQUIRE(report);
  const auto samples = parse_exposition(metrics);
  INFO(metrics << protocol::format_status_report(*report));

  const auto& r = *report;
  CHECK(metric_sum(samples, "rngpool_hwrng_bytes_tested_total") == number(r, "hwrng_bytes_tested"));
  CHECK(metric_sum(samples, "rngpool_hwrng_bytes_used_total") == number(r, "hwrng_bytes_used"));
  CHECK(metric_sum(samples, "rngpool_health_test_failures_total", {{"test", "rct"}}) == number(r, "rct_failures"));
  CHECK(metric_sum(samples, "rngpool_health_test_failures_total", {{"test", "apt"}}) == number(r, "apt_failures"));
  CHECK(metric_sum(samples, "rngpool_health_test_failures_total", {{"level", "intermittent"}}) ==
        number(r, "intermittent_failures"));
  CHECK(metric_sum(samples, "rngpool_health_test_failures_total", {{"level", "permanent"}}) ==
        number(r, "permanent_failures"));
  CHECK(metric_sum(samples, "rngpool_reseeds_total") == number(r, "reseeds"));
  CHECK(metric_sum(samples, "rngpool_reseeds_total", {{"with_hwrng", "true"}}) == number(r, "reseeds_with_hwrng"));
  CHECK(metric_sum(samples, "rngpool_requests_total", {{"status", "OK"}}) == number(r, "requests_served"));
  CHECK(metric_sum(samples, "rngpool_requests_total") - metric_sum(samples, "rngpool_requests_total", {{"status", "OK"}}) ==
        number(r, "requests_refused"));
  CHECK(metric_sum(samples, "rngpool_bytes_served_total") == number(r, "bytes_served"));
  CHECK(metric_sum(samples, "rngpool_clients_connected") == number(r, "clients_connected"));
  CHECK(metric_sum(samples, "rngpool_connections_accepted_total") == number(r, "connections_accepted"));
  CHECK(metric_sum(samples, "rngpool_connections_refused_total") == number(r, "connections_refused"));
  CHECK(metric_sum(samples, "rngpool_hwrng_failed_attempts_total") == number(r, "hwrng_failed_attempts"));
  CHECK(metric_sum(samples, "rngpool_hwrng_in_key") == (status_value(r, "hwrng_in_key") == "yes" ? 1 : 0));
  CHECK(metric_sum(samples, "rngpool_key_memory_locked") == (status_value(r, "key_memory_locked") == "yes" ? 1 : 0));
  CHECK(metric_sum(samples, "rngpool_state", {{"state", status_value(r, "state")}}) == 1);
  CHECK(metric_sum(samples, "rngpool_state") == 1);
  CHECK(metric_sum(samples, "rngpool_hwrng_state", {{"state", status_value(r, "hwrng_state")}}) == 1);
  CHECK(metric_sum(samples, "rngpool_build_info", {{"version", status_value(r, "version")}}) == 1);
  CHECK(std::abs(metric_sum(samples, "rngpool_uptime_seconds") - number(r, "uptime_s")) < 1.01);

  // Not trivially equal: the traffic and the stuck hwrng counted something.
  CHECK(number(r, "requests_served") == 5);  // 4 binary, 1 HEX
  CHECK(number(r, "requests_refused") == 2);  // TOO_LARGE, FOO
  CHECK(metric_sum(samples, "rngpool_requests_total", {{"frontend", "binary"}, {"status", "TOO_LARGE"}}) == 1);
  CHECK(metric_sum(samples, "rngpool_requests_total", {{"frontend", "text"}, {"status", "UNKNOWN_OPCODE"}}) == 1);
  CHECK(metric_sum(samples, "rngpool_request_size_bytes_count") == 5);
  CHECK(metric_sum(samples, "rngpool_request_size_bytes_sum") == 3 * 32 + 4000 + 8);
  CHECK(metric_sum(samples, "rngpool_request_size_bytes_bucket", {{"le", "32"}}) == 4);  // 3 x 32 and HEX 8
  CHECK(metric_sum(samples, "rngpool_request_duration_seconds_count") == 5);
  CHECK(number(r, "permanent_failures") >= 1);
  CHECK(number(r, "reseeds_with_hwrng") >= 1);
  CHECK(has_metric(samples, "rngpool_seconds_since_last_hwrng_input"));
}

TEST_CASE("Counters never go backwards, across scrapes and a SIGHUP reload", "[metrics]") {
  TestDaemon daemon({.args = metrics_args()});
  const std::uint16_t port = metrics_port(daemon);
  auto totals = [&] {
    std::map<std::string, double> out;
    const HttpReply reply = http_get(port, "/metrics");
    INFO(reply.head << "\ndaemon log:\n" << daemon.log());
    REQUIRE(reply.status == 200);
    for (const Sample& s : parse_exposition(reply.body)) {
      if (!s.name.ends_with("_total") && !s.name.ends_with("_count") && !s.name.ends_with("_bucket"))
        continue;
      std::string key = s.name;
      for (const auto& [k, v] : s.labels)
        key += "," + k + "=" + v;
      out[key] = s.value;
    }
    return out;
  };
  traffic(daemon);
  const auto before = totals();
  const auto log_size = daemon.log().size();
  REQUIRE(kill(daemon.pid(), SIGHUP) == 0);
  REQUIRE(eventually([&] { return daemon.log().find("reload:", log_size) != std::string::npos; }));
  traffic(daemon);
  const auto after = totals();
  INFO("daemon log:\n" << daemon.log());
  REQUIRE(before.size() == after.size());
  for (const auto& [key, value] : before) {
    INFO(key);
    CHECK(after.at(key) >= value);
  }
  CHECK(after.at("rngpool_requests_total,frontend=binary,status=OK") ==
        before.at("rngpool_requests_total,frontend=binary,status=OK") + 4);
  CHECK(after.at("rngpool_metrics_http_requests_total") == before.at("rngpool_metrics_http_requests_total") + 1);
}

TEST_CASE("GET /metrics serves the families METRICS serves, and promtool accepts it", "[metrics][promtool]") {
  TestDaemon daemon({.args = metrics_args()});
  traffic(daemon);
  const HttpReply reply = http_get(metrics_port(daemon), "/metrics");
  INFO(reply.head);
  REQUIRE(reply.status == 200);
  CHECK_THAT(reply.head, Catch::Contains("Content-Type: text/plain; version=0.0.4; charset=utf-8"));

  auto families = [](const std::string& text) {
    std::set<std::string> names;
    for (const Sample& s : parse_exposition(text))
      names.insert(s.name);
    return names;
  };
  const std::string text = nc_transcript(daemon.socket_path(), "METRICS\n").out;
  CHECK(families(reply.body) == families(text));
  CHECK(families(text).count("rngpool_metrics_http_requests_total") == 1);  // the listener runs, METRICS says so

  const CommandResult check = run_command("promtool check metrics", reply.body);
  INFO(check.out << check.err << reply.body);
  CHECK(check.exit_code == 0);
  CHECK(check.err.empty());  // promtool's lint findings go to stderr
}

TEST_CASE("promtool accepts the shipped alert rules", "[metrics][promtool]") {
  const std::string rules = std::string(RNGPOOL_SOURCE_DIR) + "/contrib/prometheus/rngpool.rules.yml";
  const CommandResult check = run_command("promtool check rules " + shell_quote(rules));
  INFO(check.out << check.err);
  CHECK(check.exit_code == 0);
  CHECK_THAT(check.out, Catch::Contains("SUCCESS: 3 rules found"));
}

TEST_CASE("METRICS without --metrics-listen serves the same body minus the listener's own", "[metrics]") {
  TestDaemon daemon({.hwrng = HwrngFeed::none});
  const std::string text = nc_transcript(daemon.socket_path(), "METRICS\n").out;
  CHECK_THAT(text, Catch::Contains("rngpool_build_info{version=\"" RNGPOOL_VERSION "\"} 1"));
  CHECK_THAT(text, !Catch::Contains("rngpool_metrics_http_"));
  CHECK(text.ends_with("\n\n"));
  CHECK_THAT(daemon.log(), !Catch::Contains("metrics at"));
}

TEST_CASE("Under socket activation the socket named metrics serves /metrics", "[metrics][systemd]") {
  const std::uint16_t port = free_tcp_port();
  TestDaemon daemon({.hwrng = HwrngFeed::none,
                     .args = {"--metrics-listen", "127.0.0.1:1"},  // ignored: systemd's socket wins
                     .socket_activated = true,
                     .activation_args = {"--listen=127.0.0.1:" + std::to_string(port), "--fdname=rngpool:metrics"}});
  const HttpReply reply = http_get(port, "/metrics");
  INFO(daemon.log());
  CHECK(reply.status == 200);
  CHECK_THAT(reply.body, Catch::Contains("rngpool_build_info{"));
  CHECK_THAT(daemon.log(), Catch::Contains("(the socket systemd passed; --metrics-listen ignored)"));
}

TEST_CASE("A metrics socket that is not TCP stops the daemon at start", "[metrics][systemd]") {
  TempDir dir{"rngpool-badfd"};
  const std::string other = (dir.path() / "other.sock").native();
  TestDaemon daemon({.hwrng = HwrngFeed::none, .wait_ready = false, .socket_activated = true,
                     .activation_args = {"--listen=" + other, "--fdname=rngpool:metrics"}});
  // The daemon is exec()ed on the first connection, once the socket is there.
  REQUIRE(eventually([&] {
    try {
      TestConnection poke(daemon.socket_path());
      return true;
    } catch (const std::exception&) {
      return false;
    }
  }));
  const auto status = daemon.wait_exit(std::chrono::seconds(10));
  INFO(daemon.log());
  CHECK(status == 1);
  CHECK_THAT(daemon.log(), Catch::Contains("the socket systemd passed as metrics is not a listening TCP socket"));
}

TEST_CASE("A --metrics-listen port in use stops the daemon at start, naming it", "[metrics]") {
  // Held by us, listening: the daemon's bind must fail (no SO_REUSEPORT).
  Fd held(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  REQUIRE(held);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(held.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0);
  REQUIRE(::listen(held.get(), 1) == 0);
  socklen_t length = sizeof address;
  REQUIRE(::getsockname(held.get(), reinterpret_cast<sockaddr*>(&address), &length) == 0);
  const std::string where = "127.0.0.1:" + std::to_string(ntohs(address.sin_port));

  TestDaemon daemon({.hwrng = HwrngFeed::none, .args = {"--metrics-listen", where}, .wait_ready = false});
  const auto status = daemon.wait_exit(std::chrono::seconds(10));
  INFO(daemon.log());
  CHECK(status == 1);
  CHECK_THAT(daemon.log(), Catch::Contains("--metrics-listen " + where + ": Address already in use"));
}
