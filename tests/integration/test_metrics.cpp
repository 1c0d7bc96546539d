// The metrics against the real daemon (issue 15 §1, §3): METRICS and STATUS
// agree at the same instant, counters never go backwards (a SIGHUP reload
// included), GET /metrics serves the same families, promtool accepts the
// output and the shipped alert rules.
#include "egd_support.hpp"
#include "metrics_support.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <memory>
#include <set>
#include <thread>

using namespace rngpool;
using namespace rngpool::test;
using protocol::Status;
using namespace std::chrono_literals;

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

// Its EGD socket is in a directory another uid may enter; --max-connections
// 3 lets the agreement test see an EGD client refused.
struct StoppedHwrng {
  TempDir dir{"rngpool-metrics"};
  FifoFeeder feeder{dir.path() / "hwrng", healthy_then_stuck(64 * 1024)};
  std::string egd_path = (dir.path() / "egd.sock").native();
  bool shared = ::chmod(dir.path().c_str(), 0755) == 0;
  TestDaemon daemon{{.hwrng = HwrngFeed::path,
                     .hwrng_path = feeder.path(),
                     .args = metrics_args({"--reseed-interval", "86400", "--max-connections", "3"}),
                     .egd_socket_path = egd_path}};

  StoppedHwrng() {
    REQUIRE(shared);
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

// Until the daemon has seen every other client go: a connection's close
// reaches it after the client has moved on, and --max-connections counts it
// until then.  `held` speaks text: it asks METRICS and STATUS at the end.
void settle(TestConnection& held) {
  REQUIRE(eventually([&] {
    held.send("STATUS\n");
    const auto report = protocol::parse_status_report(block(held) + "\n");
    return report && status_number(*report, "clients_connected") == 1;
  }));
}

// Some of each kind of EGD request and refusal (PROTOCOL.md §13), with one
// main-socket connection held throughout (it asks STATUS and METRICS after).
void egd_traffic(const StoppedHwrng& d, TestConnection& held) {
  {
    TestConnection c(d.egd_path);
    c.send(Bytes{0x00, 0x01, 0x10, 0x02, 0x20, 0x04, 0x03, 0x00, 0x28, 0x05, 'h', 'e', 'l', 'l', 'o', 0x00});
    CHECK(u32(c.read_exact(4)) == 2040);
    CHECK(c.read_exact(1) == Bytes{0x10});
    CHECK(c.read_exact(16 + 32).size() == 48);
    CHECK(pid_reply(c) == std::to_string(d.daemon.pid()));
    CHECK(u32(c.read_exact(4)) == 2040);  // the add has no reply
  }
  settle(held);
  {
    TestConnection bad(d.egd_path);
    bad.send(Bytes{0x02, 0x08, 0x07});
    CHECK(bad.read_exact(8).size() == 8);
    CHECK(bad.wait_closed());  // 0x07: no such command
  }
  settle(held);
  // Another uid's add is refused (and dropped); its 0x00 is answered.
  const CommandResult other = egd_as(other_user().id, d.egd_path, "\\003\\000\\010\\003abc\\000");
  INFO(other.err);
  CHECK(other.out == "000007f8");
  settle(held);
  {
    TestConnection first(d.egd_path), second(d.egd_path);  // with `held`: --max-connections 3
    first.send(Bytes{0x00});
    second.send(Bytes{0x00});
    CHECK(u32(first.read_exact(4)) == 2040);
    CHECK(u32(second.read_exact(4)) == 2040);
    TestConnection over(d.egd_path);
    CHECK(over.read_until_eof().empty());
  }
  settle(held);
}

// STATUS counters compared with exposition values, which are doubles
// (exact below 2^53, far beyond what a test counts).
double number(const protocol::StatusReport& report, const char* key) {
  return static_cast<double>(status_number(report, key));
}

}  // namespace

TEST_CASE("METRICS and STATUS taken back to back agree on every counter", "[metrics][egd]") {
  REQUIRE(::geteuid() == 0);  // to be another uid through setpriv (the tests run as root: scripts/test)
  StoppedHwrng idle;
  TestConnection connection(idle.daemon.socket_path());
  settle(connection);  // the fixture's STATUS connections gone: --max-connections 3 leaves traffic() room
  traffic(idle.daemon);
  settle(connection);
  egd_traffic(idle, connection);
  connection.send("METRICS\nSTATUS\n");
  const std::string metrics = block(connection);
  const auto report = protocol::parse_status_report(block(connection) + "\n");
  REQUIRE(report);
  const auto samples = parse_exposition(metrics);
  INFO(metrics << protocol::format_status_report(*report));

  const auto& r = *report;
  // Every key checked here; the test ends by finding none unchecked but
  // settings, which no metric repeats.
  std::set<std::string> checked;
  auto agree = [&](double metric, const char* key) {
    checked.insert(key);
    INFO(key);
    CHECK(metric == number(r, key));
  };
  auto sum = [&](const char* name, std::map<std::string, std::string> match = {}) {
    return metric_sum(samples, name, match);
  };
  auto main_sockets = [&](const char* status) {
    return sum("rngpool_requests_total", {{"frontend", "binary"}, {"status", status}}) +
           sum("rngpool_requests_total", {{"frontend", "text"}, {"status", status}});
  };
  agree(sum("rngpool_hwrng_bytes_tested_total"), "hwrng_bytes_tested");
  agree(sum("rngpool_hwrng_bytes_used_total"), "hwrng_bytes_used");
  agree(sum("rngpool_health_test_failures_total", {{"test", "rct"}}), "rct_failures");
  agree(sum("rngpool_health_test_failures_total", {{"test", "apt"}}), "apt_failures");
  agree(sum("rngpool_health_test_failures_total", {{"level", "intermittent"}}), "intermittent_failures");
  agree(sum("rngpool_health_test_failures_total", {{"level", "permanent"}}), "permanent_failures");
  agree(sum("rngpool_reseeds_total"), "reseeds");
  agree(sum("rngpool_reseeds_total", {{"with_hwrng", "true"}}), "reseeds_with_hwrng");
  // STATUS's two are the main socket's (PROTOCOL.md §10.4); EGD's apart.
  agree(main_sockets("OK"), "requests_served");
  double refused_main = 0;
  for (int status = 1; status <= static_cast<int>(Status::internal); ++status)
    refused_main += main_sockets(std::string(protocol::status_name(static_cast<Status>(status))).c_str());
  agree(refused_main, "requests_refused");
  agree(sum("rngpool_bytes_served_total"), "bytes_served");
  agree(sum("rngpool_clients_connected"), "clients_connected");
  agree(sum("rngpool_connections_accepted_total"), "connections_accepted");
  agree(sum("rngpool_connections_refused_total"), "connections_refused");
  agree(sum("rngpool_hwrng_failed_attempts_total"), "hwrng_failed_attempts");
  agree(sum("rngpool_auxiliary_bytes_mixed_total"), "auxiliary_bytes_mixed");
  agree(sum("rngpool_egd_connections_accepted_total"), "egd_connections_accepted");
  agree(sum("rngpool_egd_connections_refused_total"), "egd_connections_refused");
  agree(sum("rngpool_egd_requests_total"), "egd_requests");
  agree(sum("rngpool_egd_bytes_served_total"), "egd_bytes_served");
  agree(sum("rngpool_egd_adds_total", {{"result", "accepted"}}), "egd_adds_accepted");
  agree(sum("rngpool_egd_adds_total", {{"result", "refused"}}), "egd_adds_refused");
  agree(sum("rngpool_egd_bytes_added_total"), "egd_bytes_added");
  // Each EGD close, also under the status the main socket would answer with.
  for (const auto& [reason, status] : std::vector<std::pair<std::string, const char*>>{
           {"bad_command", "UNKNOWN_OPCODE"},
           {"permission", "PERMISSION_DENIED"},
           {"not_ready", "NOT_READY"},
           {"hwrng_unavailable", "HWRNG_UNAVAILABLE"}}) {
    const std::string key = "egd_closed_" + reason;
    agree(sum("rngpool_egd_connections_closed_total", {{"reason", reason}}), key.c_str());
    CHECK(sum("rngpool_requests_total", {{"frontend", "egd"}, {"status", status}}) == number(r, key.c_str()));
  }
  CHECK(sum("rngpool_hwrng_in_key") == (status_value(r, "hwrng_in_key") == "yes" ? 1 : 0));
  CHECK(sum("rngpool_key_memory_locked") == (status_value(r, "key_memory_locked") == "yes" ? 1 : 0));
  CHECK(sum("rngpool_state", {{"state", status_value(r, "state")}}) == 1);
  CHECK(sum("rngpool_state") == 1);
  CHECK(sum("rngpool_hwrng_state", {{"state", status_value(r, "hwrng_state")}}) == 1);
  CHECK(sum("rngpool_build_info", {{"version", status_value(r, "version")}}) == 1);
  CHECK(std::abs(sum("rngpool_uptime_seconds") - number(r, "uptime_s")) < 1.01);
  checked.insert({"hwrng_in_key", "key_memory_locked", "state", "hwrng_state", "version", "uptime_s"});

  // What is left are settings and texts: no metric is asked for them.
  const std::set<std::string> settings{"health",          "hwrng",          "hwrng_entropy_per_byte",
                                       "rct_cutoff_intermittent", "rct_cutoff_permanent", "apt_cutoff_intermittent",
                                       "apt_cutoff_permanent",    "apt_window",           "require_hwrng",
                                       "hwrng_read_error",        "hwrng_retry_s",        "reseed_interval_s",
                                       "max_connections",         "max_request",          "idle_timeout_s"};
  for (const auto& [key, value] : r) {
    INFO("STATUS key without a metric check: " << key);
    CHECK((checked.count(key) == 1 || settings.count(key) == 1));
  }

  // Not trivially equal: the traffic and the stuck hwrng counted something.
  CHECK(number(r, "requests_served") == 5);  // 4 binary, 1 HEX
  CHECK(number(r, "requests_refused") == 2);  // TOO_LARGE, FOO
  CHECK(sum("rngpool_requests_total", {{"frontend", "binary"}, {"status", "TOO_LARGE"}}) == 1);
  CHECK(sum("rngpool_requests_total", {{"frontend", "text"}, {"status", "UNKNOWN_OPCODE"}}) == 1);
  CHECK(sum("rngpool_requests_total", {{"frontend", "egd"}, {"status", "OK"}}) == 3);  // 0x01, 0x02 and the bad's 0x02
  CHECK(sum("rngpool_requests_total", {{"frontend", "egd"}, {"status", "UNKNOWN_OPCODE"}}) == 1);
  CHECK(sum("rngpool_requests_total", {{"frontend", "egd"}}) == 4);  // 0x00, 0x04 and adds are not random requests
  CHECK(sum("rngpool_request_size_bytes_count") == 5);
  CHECK(sum("rngpool_request_size_bytes_sum") == 3 * 32 + 4000 + 8);
  CHECK(sum("rngpool_request_size_bytes_bucket", {{"le", "32"}}) == 4);  // 3 x 32 and HEX 8
  CHECK(sum("rngpool_request_duration_seconds_count") == 5);
  CHECK(number(r, "permanent_failures") >= 1);
  CHECK(number(r, "reseeds_with_hwrng") >= 1);
  CHECK(number(r, "egd_requests") == 6 + 1 + 2 + 2);  // the first's 6, the bad's 0x02, the other uid's 2, first, second
  CHECK(number(r, "egd_bytes_served") == 16 + 32 + 8);
  CHECK(number(r, "egd_adds_accepted") == 1);
  CHECK(number(r, "egd_adds_refused") == 1);
  CHECK(number(r, "egd_bytes_added") == 5);
  CHECK(number(r, "egd_connections_refused") == 1);
  CHECK(number(r, "egd_connections_accepted") == 5);
  CHECK(has_metric(samples, "rngpool_last_hwrng_contribution_age_seconds"));
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
  // The HTTP side reuses a snapshot up to 10 ms old (http_server.hpp,
  // kSnapshotReuse): a reload and four requests can fit inside that, and the
  // second scrape would show the first's counts.
  std::this_thread::sleep_for(20ms);
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
