// The metrics listener against hostile HTTP (issue 15 §1, §3): bounded
// request line, header count and body, a whole-request timeout against
// slowloris, a connection limit of its own -- and while all of that goes
// on, the daemon's memory stays bounded and random-byte clients keep their
// latency.
#include "metrics_support.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <thread>

using namespace rngpool;
using namespace rngpool::test;
using namespace std::chrono_literals;

namespace {

using Clock = std::chrono::steady_clock;

// The listener's limits (metrics/http_server.hpp).
constexpr std::size_t kMaxConnections = 16;
constexpr auto kRequestTimeout = 5s;

struct MetricsDaemon {
  TestDaemon daemon{{.args = metrics_args()}};
  std::uint16_t port = metrics_port(daemon);
};

// Whether the server closes `fd` within `timeout`; what it sent is dropped.
bool closed_within(int fd, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  char buffer[4096];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0)
      return false;
    if (::recv(fd, buffer, sizeof buffer, 0) <= 0)
      return true;
  }
}

void send_text(int fd, std::string_view text) {
  REQUIRE(::send(fd, text.data(), text.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(text.size()));
}

// Per-request latency of sequential 32-byte GET_RANDOMs, in microseconds:
// at least `n` of them, for at least `at_least`.
std::vector<double> latencies(const TestDaemon& daemon, int n, std::chrono::milliseconds at_least = 0ms) {
  TestConnection connection(daemon.socket_path());
  std::vector<double> out;
  const auto until = Clock::now() + at_least;
  for (int i = 0; i < n || Clock::now() < until; ++i) {
    const auto start = Clock::now();
    REQUIRE(get_random(connection, 32).payload.size() == 32);
    out.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
  return out;
}

double p99(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() * 99 / 100];
}

}  // namespace

TEST_CASE("Metrics HTTP: only GET /metrics and / are served", "[metrics][hostile]") {
  MetricsDaemon m;
  const HttpReply index = http_get(m.port, "/");
  CHECK(index.status == 200);
  CHECK_THAT(index.body, Catch::Contains("href=\"/metrics\""));
  CHECK(http_get(m.port, "/metrics?x=1").status == 200);
  CHECK(http_get(m.port, "/nothing").status == 404);
  const HttpReply post = http_exchange(m.port, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
  CHECK(post.status == 405);
  CHECK_THAT(post.head, Catch::Contains("Allow: GET"));
  const HttpReply body = http_exchange(m.port, "GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
  CHECK(body.status == 400);
  CHECK(http_exchange(m.port, "NONSENSE\r\n\r\n").status == 400);
}

TEST_CASE("Metrics HTTP: an oversized request line or header section gets 431 and the close", "[metrics][hostile]") {
  MetricsDaemon m;
  const std::string long_line = "GET /" + std::string(16 * 1024, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n";
  CHECK(http_exchange(m.port, long_line, 3s).status == 431);
  std::string many = "GET /metrics HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 100; ++i)
    many += "X-" + std::to_string(i) + ": y\r\n";
  const HttpReply fields = http_exchange(m.port, many + "\r\n", 3s);
  CHECK(fields.status == 431);
  CHECK_THAT(fields.body, Catch::Contains("too many header fields"));
  const std::string big_header = "GET /metrics HTTP/1.1\r\nX-Big: " + std::string(9000, 'b') + "\r\n\r\n";
  CHECK(http_exchange(m.port, big_header, 3s).status == 431);
  // Still serving, and counting what it refused.
  const auto samples = parse_exposition(http_get(m.port, "/metrics").body);
  CHECK(metric_sum(samples, "rngpool_metrics_http_requests_rejected_total") == 3);
}

TEST_CASE("Metrics HTTP: a request trickling in (slowloris) is cut off after the timeout", "[metrics][hostile]") {
  MetricsDaemon m;
  Fd fd = connect_tcp(m.port);
  const auto start = Clock::now();
  send_text(fd.get(), "GET /metrics HTTP/1.1\r\n");
  bool closed = false;
  for (int i = 0; i < 40 && !closed; ++i) {
    ::send(fd.get(), "X", 1, MSG_NOSIGNAL);  // a byte every 250 ms never completes a header
    closed = closed_within(fd.get(), 250ms);
  }
  const auto took = Clock::now() - start;
  CHECK(closed);
  CHECK(took >= kRequestTimeout - 100ms);
  CHECK(took <= kRequestTimeout + 3s);
}

TEST_CASE("Metrics HTTP: at its connection limit the oldest idle connection makes room for a scrape",
          "[metrics][hostile]") {
  MetricsDaemon m;
  std::vector<Fd> held;
  for (std::size_t i = 0; i < kMaxConnections; ++i) {
    held.push_back(connect_tcp(m.port));
    // Accepted in order, so the first is the oldest.
    REQUIRE(eventually([&] {
      const auto text = nc_transcript(m.daemon.socket_path(), "METRICS\n").out;
      return metric_sum(parse_exposition(text), "rngpool_metrics_http_connections_accepted_total") == static_cast<double>(i + 1);
    }));
  }
  std::this_thread::sleep_for(150ms);  // past the listener's 100 ms before a connection may be displaced
  const HttpReply scrape = http_get(m.port, "/metrics", 2s);
  CHECK(scrape.status == 200);
  CHECK(closed_within(held.front().get(), 2s));
  for (std::size_t i = 1; i < held.size(); ++i)
    CHECK_FALSE(closed_within(held[i].get(), 0ms));
  CHECK(metric_sum(parse_exposition(scrape.body), "rngpool_metrics_http_connections_refused_total") == 1);
}

TEST_CASE("Metrics HTTP: 1000 connections, slowloris and a scrape loop leave memory bounded and random-byte "
          "latency alone",
          "[metrics][hostile]") {
  MetricsDaemon m;
  latencies(m.daemon, 500);  // warm up
  const double baseline = p99(latencies(m.daemon, 3000));
  const std::uint64_t rss_before = rss_kib(m.daemon.pid());

  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> scrapes{0};
  std::vector<Fd> flood;
  for (int i = 0; i < 1000; ++i)
    flood.push_back(connect_tcp(m.port));
  std::thread slowloris([&] {
    std::vector<Fd> slow;
    while (!stop) {
      slow.push_back(connect_tcp(m.port));
      ::send(slow.back().get(), "GET /metrics HTTP/1.1\r\nX-", 25, MSG_NOSIGNAL);
      if (slow.size() > 64)
        slow.erase(slow.begin());
      std::this_thread::sleep_for(20ms);
    }
  });
  std::thread scraper([&] {
    while (!stop) {
      try {
        if (http_get(m.port, "/metrics", 1s).status == 200)
          ++scrapes;
      } catch (const std::system_error&) {
      }
    }
  });
  // Long enough for the flood to be accepted and the scraper to get turns.
  const double attacked = p99(latencies(m.daemon, 3000, 3s));
  const std::uint64_t rss_during = rss_kib(m.daemon.pid());
  stop = true;
  slowloris.join();
  scraper.join();

  INFO("random-byte p99 " << baseline << " us before, " << attacked << " us under attack; RSS " << rss_before
                          << " KiB before, " << rss_during << " KiB during; " << scrapes << " scrapes served");
  WARN("random-byte p99 " << baseline << " us before, " << attacked << " us under attack; RSS " << rss_before
                          << " KiB -> " << rss_during << " KiB; " << scrapes << " scrapes served");
  CHECK(scrapes > 0);
  if (kSanitized) {
    // Shadow memory, the quarantine and instrumented code: neither bound
    // means anything in this build (sanitizer.hpp).
    WARN("sanitizer build: the RSS and p99 bounds are judged in the normal build only");
    return;
  }
  // Bounded memory: 16 connections' buffers and the HTTP thread, not 1000 of anything.
  CHECK(rss_during <= rss_before + 8 * 1024);
  // issue 5's bound for a 32-byte request (p99 <= 2 ms) holds under attack.
  CHECK(attacked <= 2000.0);
}
