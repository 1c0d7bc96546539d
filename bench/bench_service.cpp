// The service benchmark (issue 5 §1): rngpoold against the machine's limits.
//
// Every figure is set beside a baseline measured in the same run, on the same
// socket path layout, placement and load generator:
//  - the bare server (support/bare_server.hpp) is the Unix-socket limit: same
//    framing, a pre-filled buffer for small replies, an EVP ChaCha20
//    keystream for bulk ones;
//  - getrandom(2) in-process is what a program gets without any daemon.
// The daemon and the bare server are separate processes started the same
// way; within each repetition they alternate (and swap order every other
// repetition), so drift in the machine's load hits both alike.  Figures are
// medians over the repetitions.
#include "rngpool/test/child_process.hpp"
#include "rngpool/test/fifo_feeder.hpp"
#include "rngpool/test/http_client.hpp"
#include "rngpool/test/process_usage.hpp"
#include "rngpool/test/temp_dir.hpp"
#include "support/bare_server.hpp"
#include "support/getrandom_rate.hpp"
#include "support/load.hpp"
#include "support/options.hpp"
#include "support/report.hpp"
#include "support/server_process.hpp"
#include "support/stats.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <sys/resource.h>
#include <system_error>
#include <thread>
#include <vector>

namespace rngpool::bench {
namespace {

namespace fs = std::filesystem;
using test::cpu_seconds;
using test::rss_kib;
using Metrics = std::vector<double>;  // what one measurement yields

constexpr double kSmallTarget = 0.8;       // × bare server
constexpr double kBulkTarget = 0.8;        // × bare ChaCha20 server
constexpr double kGetrandomTarget = 4.0;   // × getrandom(2), bulk
constexpr double kFairnessP99Us = 2000;    // µs
constexpr double kRssTargetKib = 32 * 1024;
constexpr double kStartupTarget = 0.5;     // s
// "≈ 0" made checkable: under 0.5 % of one CPU while nobody is connected.
constexpr double kIdleCpuTarget = 0.005;
// issue 15 §4: a scrape every 100 ms moves the 32 B request rate by at most 2 %.
constexpr double kScrapeTolerance = 0.02;
constexpr auto kScrapeInterval = std::chrono::milliseconds(100);

// Where the processes run, and the one place that knows it.
struct Placement {
  std::optional<int> server_cpu;
  std::optional<int> load_cpu;

  std::string describe() const
  {
    if (!server_cpu) return "unpinned (the scheduler places daemon, bare server and load generator)";
    return "pinned: daemon and bare server on CPU " + std::to_string(*server_cpu) +
           ", load generator, getrandom baseline and FIFO feeder on CPU " + std::to_string(*load_cpu);
  }
};

double own_cpu_seconds();

class ServiceBench {
 public:
  explicit ServiceBench(Options options) : options_(std::move(options))
  {
    self_ = fs::read_symlink("/proc/self/exe").string();
    if (options_.pin && std::thread::hardware_concurrency() >= 2) {
      placement_ = {0, 1};
      // Threads started from here on (load generator, FIFO feeder) inherit it.
      if (const int error = test::pin_to_cpu(*placement_.load_cpu)) {
        throw std::system_error(error, std::generic_category(), "sched_setaffinity");
      }
    }
  }

  int run()
  {
    print_machine(placement_.describe(), options_.repetitions);
    std::cout << "- rngpoold: " << options_.daemon << "; hwrng: FIFO fed from getrandom(2), "
              << options_.hwrng_rate / 1024 << " KiB/s after a pre-filled pipe\n"
              << "- rates: replies per second; MB/s = 10^6 bytes/s of payload\n";
    section("startup", [&] { startup(); });
    {
      const auto hwrng = healthy_hwrng("hwrng");
      auto daemon = RunningServer::start(daemon_command("rngpoold.sock", hwrng->path()), placement_.server_cpu);
      auto bare = RunningServer::start(bare_command("bare.sock"), placement_.server_cpu);
      daemon_ = &daemon;
      bare_ = &bare;
      if (options_.sections.contains("footprint")) idle_footprint();
      section("small", [&] { small_requests(); });
      section("bulk", [&] { bulk(); });
      section("fairness", [&] { fairness(); });
      section("footprint", [&] { loaded_footprint(); });
      section("scrape", [&] { scrape(); });
      daemon_ = bare_ = nullptr;
    }
    return failures_ == 0 ? 0 : 1;
  }

 private:
  std::string path(const std::string& name) const { return (dir_.path() / name).native(); }

  // A healthy stand-in for /dev/hwrng: a FIFO fed with getrandom(2) bytes.
  // Why a full pipe first and then a trickle: a real virtio-rng delivers
  // about 10-20 kB/s, and the daemon's start-up needs only its first few kB
  // (1024 start-up samples and one seed), so the start-up figure measures
  // the daemon rather than the feeder; trickling at device speed afterwards
  // keeps the idle-CPU figure honest (an unlimited feeder would keep the
  // daemon's reader thread busy).
  std::unique_ptr<test::FifoFeeder> healthy_hwrng(const std::string& name) const
  {
    constexpr auto kTick = std::chrono::milliseconds(50);
    const std::size_t per_tick = std::max<std::size_t>(1, options_.hwrng_rate * static_cast<std::size_t>(kTick.count()) / 1000);
    return std::make_unique<test::FifoFeeder>(path(name), test::FifoFeeder::random_bytes(), kTick, per_tick,
                                              test::FifoFeeder::Start::pipe_full);
  }

  ServerCommand daemon_command(const std::string& socket, const std::string& hwrng) const
  {
    // Connection limits above the footprint case's 1024 so that case
    // measures memory, not the limits (all connections share one uid).
    const std::string limit = std::to_string(options_.idle_connections + 64);
    std::vector<std::string> argv{options_.daemon, "--socket", path(socket), "--hwrng", hwrng, "--log-level", "info",
                                  "--max-connections", limit, "--max-connections-per-uid", limit};
    // The scrape section's listener, on a free loopback port the log names.
    if (options_.sections.contains("scrape")) argv.insert(argv.end(), {"--metrics-listen", "127.0.0.1:0"});
    return {"rngpoold", std::move(argv), path(socket), path("notify-" + socket), path(socket + ".log")};
  }

  ServerCommand bare_command(const std::string& socket) const
  {
    return {"bare server", {self_, "--bare-server", path(socket)}, path(socket), path("notify-" + socket),
            path(socket + ".log")};
  }

  // Runs one section when selected; a failure is reported and the rest go on.
  void section(const std::string& name, const std::function<void()>& body)
  {
    if (!options_.sections.contains(name)) return;
    try {
      body();
    } catch (const std::exception& e) {
      ++failures_;
      std::string why = e.what();
      for (RunningServer* server : {daemon_, bare_}) {
        if (server != nullptr) {
          if (auto report = server->exit_report(); !report.empty()) why += "; " + report;
        }
      }
      std::cout << "\n### " << name << ": FAILED\n\n" << why << "\n";
      std::cerr << "bench_service: section " << name << " failed: " << why << "\n";
    }
  }

  struct Paired {
    std::vector<Metrics> rngpool, bare;
    double rngpool_median(std::size_t metric) const { return median_of(rngpool, metric); }
    double bare_median(std::size_t metric) const { return median_of(bare, metric); }
    // The median of the per-repetition ratios: each pair was measured back
    // to back, so this cancels slow drift in the machine's load that a ratio
    // of the two medians would not.
    double ratio(std::size_t metric) const
    {
      std::vector<double> ratios;
      for (std::size_t i = 0; i < rngpool.size(); ++i) ratios.push_back(rngpool[i].at(metric) / bare[i].at(metric));
      return median(ratios);
    }
    static double median_of(const std::vector<Metrics>& runs, std::size_t metric)
    {
      std::vector<double> values;
      for (const auto& m : runs) values.push_back(m.at(metric));
      return median(values);
    }
  };

  // Measures daemon and bare server alternately, swapping who goes first.
  Paired alternate(const std::string& label, const std::function<Metrics(const RunningServer&)>& measure)
  {
    Paired paired;
    for (int rep = 0; rep < options_.repetitions; ++rep) {
      const bool daemon_first = rep % 2 == 0;
      for (int turn = 0; turn < 2; ++turn) {
        const bool daemon = (turn == 0) == daemon_first;
        if (options_.verbose) std::cerr << label << (daemon ? " rngpool\n" : " bare\n");
        auto metrics = measure(daemon ? *daemon_ : *bare_);
        (daemon ? paired.rngpool : paired.bare).push_back(metrics);
        if (options_.verbose) {
          std::cerr << "  metrics:";
          for (double m : metrics) std::cerr << " " << m;
          std::cerr << "\n";
        }
        settle();
      }
    }
    return paired;
  }

  // Lets the server finish with connections we just closed (a cut-off 1 MiB
  // reply) before the next measurement starts.
  void settle() const { std::this_thread::sleep_for(std::chrono::milliseconds(options_.quick ? 10 : 30)); }

  std::vector<double> repeat(const std::function<double()>& measure) const
  {
    std::vector<double> samples;
    for (int rep = 0; rep < options_.repetitions; ++rep) samples.push_back(measure());
    return samples;
  }

  LoadPlan plan(const RunningServer& server, std::vector<ConnectionGroup> groups, double seconds) const
  {
    return {server.socket(), std::move(groups), options_.load_threads, options_.warmup_seconds, seconds};
  }

  // Runs a load and also reports how busy the server was (fraction of one
  // CPU over the whole run): near 1 means the server is the bottleneck, well
  // below 1 means the load generator or the wake-ups are.
  // With --verbose the load generator's own CPU use is printed too.
  std::pair<LoadResult, double> load_with_cpu(const RunningServer& server, const LoadPlan& load) const
  {
    const double cpu0 = cpu_seconds(server.pid());
    const double self0 = own_cpu_seconds();
    const auto t0 = std::chrono::steady_clock::now();
    auto result = run_load(load);
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double cpu = (cpu_seconds(server.pid()) - cpu0) / wall;
    if (options_.verbose) {
      std::cerr << "  server CPU " << cpu << ", load generator CPU " << (own_cpu_seconds() - self0) / wall
                << "\n";
    }
    return {std::move(result), cpu};
  }

  static std::string with_cpu(const std::string& figure, double cpu)
  {
    return figure + " (" + std::to_string(static_cast<int>(cpu * 100 + 0.5)) + " % CPU)";
  }

  // ---- start-up ------------------------------------------------------------

  void startup()
  {
    std::vector<double> daemon, bare;
    for (int rep = 0; rep < options_.repetitions; ++rep) {
      // A fresh, pre-filled FIFO each time: a healthy device with data ready.
      const auto hwrng = healthy_hwrng("hwrng-startup");
      auto d = RunningServer::start(daemon_command("startup.sock", hwrng->path()), placement_.server_cpu);
      daemon.push_back(d.startup_seconds());
      d.stop();
      auto b = RunningServer::start(bare_command("startup-bare.sock"), placement_.server_cpu);
      bare.push_back(b.startup_seconds());
      b.stop();
    }
    const double d = median(daemon), b = median(bare);
    print_table("Start-up: exec to READY=1",
                {{"exec → READY=1, healthy FIFO hwrng", format_duration_us(d * 1e6),
                  "bare server " + format_duration_us(b * 1e6), format_ratio(d / b), "≤ 0.5 s",
                  d <= kStartupTarget}});
  }

  // ---- small requests ------------------------------------------------------

  void small_requests()
  {
    const double getrandom = median(repeat([&] { return getrandom_calls_per_second(32, options_.small_seconds); }));
    std::vector<Row> rows;
    for (int connections : {1, 16, 64, 256}) {
      const auto label = "32 B × " + std::to_string(connections) + " connections";
      auto paired = alternate(label, [&](const RunningServer& server) -> Metrics {
        auto [result, cpu] = load_with_cpu(server, plan(server, {{connections, 32, 1, false}}, options_.small_seconds));
        return {result.replies_per_second(), cpu};
      });
      const double d = paired.rngpool_median(0), b = paired.bare_median(0), ratio = paired.ratio(0);
      rows.push_back({label, with_cpu(format_rate(d), paired.rngpool_median(1)),
                      "bare " + with_cpu(format_rate(b), paired.bare_median(1)) + " · getrandom " + format_rate(getrandom),
                      format_ratio(ratio) + " bare · " + format_ratio(d / getrandom) + " getrandom",
                      "≥ 0.8× bare", ratio >= kSmallTarget});
    }
    print_table("Small requests: 32-byte GET_RANDOM per second (closed loop, one request in flight per connection; "
                "server CPU in parentheses)",
                rows);
  }

  // ---- bulk ----------------------------------------------------------------

  void bulk()
  {
    // The issue's ≥ 4× getrandom target cannot hold for closed-loop 64 KiB
    // requests: each waits a round trip about as long as sending its 64 KiB,
    // which caps even the bare server near 2.4×.  The same size with 4 in
    // flight is the row that target is judged on; the closed-loop row stays
    // as what one synchronous client sees.
    struct Case {
      std::string name;
      std::uint32_t size;
      int depth;
      bool getrandom_target;
    };
    const std::vector<Case> cases = {{"64 KiB requests", 64 * 1024, 1, false},
                                     {"64 KiB requests, 4 in flight", 64 * 1024, 4, true},
                                     {"1 MiB requests", 1024 * 1024, 1, true},
                                     {"1 MiB pipelined stream (4 in flight)", 1024 * 1024, 4, true}};
    std::vector<Row> rows;
    std::string closed_loop_bare;  // the bare server's multiple of getrandom without the 4× target
    for (const auto& c : cases) {
      auto paired = alternate(c.name, [&](const RunningServer& server) -> Metrics {
        auto [result, cpu] = load_with_cpu(server, plan(server, {{1, c.size, c.depth, false}}, options_.bulk_seconds));
        return {result.megabytes_per_second(), cpu};
      });
      const double getrandom =
          median(repeat([&] { return getrandom_calls_per_second(c.size, options_.bulk_seconds / 2); })) * c.size / 1e6;
      const double d = paired.rngpool_median(0), b = paired.bare_median(0), ratio = paired.ratio(0);
      if (!c.getrandom_target) closed_loop_bare = format_ratio(b / getrandom);
      rows.push_back({c.name, with_cpu(format_mbps(d), paired.rngpool_median(1)),
                      "bare ChaCha20 " + with_cpu(format_mbps(b), paired.bare_median(1)) + " · getrandom " +
                          format_mbps(getrandom),
                      format_ratio(ratio) + " bare · " + format_ratio(d / getrandom) + " getrandom",
                      c.getrandom_target ? "≥ 0.8× bare, ≥ 4× getrandom" : "≥ 0.8× bare",
                      ratio >= kBulkTarget && (!c.getrandom_target || d >= kGetrandomTarget * getrandom)});
    }
    print_table("Bulk: MB/s on one connection (server CPU in parentheses)", rows,
                "The ≥ 4× getrandom target applies to the 1 MiB rows and to 64 KiB with 4 in flight, not to closed-loop "
                "64 KiB requests: each of those waits a full round trip, which caps even the bare server (here " +
                    closed_loop_bare + " getrandom) below 4×.");
  }

  // ---- fairness ------------------------------------------------------------

  void fairness()
  {
    // Group 0: the small client whose latency counts; group 1: the streamer.
    auto paired = alternate("fairness", [&](const RunningServer& server) -> Metrics {
      const auto result = run_load(
          plan(server, {{1, 32, 1, true}, {1, 1024 * 1024, 4, false}}, options_.fairness_seconds));
      const auto& latencies = result.groups[0].latencies_us;
      if (latencies.empty()) throw std::runtime_error("no small reply completed while the stream ran");
      return {percentile(latencies, 50), percentile(latencies, 99), result.megabytes_per_second(1)};
    });
    std::vector<Row> rows;
    const char* names[] = {"32 B latency p50", "32 B latency p99", "the 1 MiB stream meanwhile"};
    for (std::size_t m = 0; m < 3; ++m) {
      const double d = paired.rngpool_median(m), b = paired.bare_median(m);
      const bool latency = m < 2;
      rows.push_back({names[m], latency ? format_duration_us(d) : format_mbps(d),
                      "bare " + (latency ? format_duration_us(b) : format_mbps(b)), format_ratio(paired.ratio(m)),
                      m == 1 ? "≤ 2 ms" : "", m == 1 ? std::optional<bool>(d <= kFairnessP99Us) : std::nullopt});
    }
    print_table("Fairness: one client's 32-byte requests while another streams 1 MiB requests (4 in flight)", rows);
  }

  // ---- footprint -----------------------------------------------------------

  // Taken after start, before any load: the daemon as an operator first
  // sees it.
  void idle_footprint()
  {
    fresh_rss_ = {static_cast<double>(rss_kib(daemon_->pid())), static_cast<double>(rss_kib(bare_->pid()))};
    // The daemon first drains what the pre-filled pipe still holds; idle is
    // what follows, with the hwrng delivering at device speed.
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    const double d0 = cpu_seconds(daemon_->pid()), b0 = cpu_seconds(bare_->pid());
    std::this_thread::sleep_for(std::chrono::duration<double>(options_.idle_seconds));
    idle_cpu_ = {(cpu_seconds(daemon_->pid()) - d0) / options_.idle_seconds,
                 (cpu_seconds(bare_->pid()) - b0) / options_.idle_seconds};
  }

  void loaded_footprint()
  {
    const double daemon_after = static_cast<double>(rss_kib(daemon_->pid()));
    const double bare_after = static_cast<double>(rss_kib(bare_->pid()));
    auto rss_with_idle_connections = [&](const RunningServer& server) {
      auto connections = open_idle_connections(server.socket(), options_.idle_connections);
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      return static_cast<double>(rss_kib(server.pid()));
    };
    const double daemon_conns = rss_with_idle_connections(*daemon_);
    const double bare_conns = rss_with_idle_connections(*bare_);
    const auto conns = std::to_string(options_.idle_connections);
    std::vector<Row> rows;
    auto rss_row = [&](const std::string& name, double d, double b, bool target) {
      rows.push_back({name, format_kib(d), "bare " + format_kib(b), format_ratio(d / b), target ? "≤ 32 MiB" : "",
                      target ? std::optional<bool>(d <= kRssTargetKib) : std::nullopt});
    };
    if (fresh_rss_) rss_row("RSS idle, fresh", (*fresh_rss_)[0], (*fresh_rss_)[1], false);
    rss_row("RSS idle, after the load sections", daemon_after, bare_after, false);
    rss_row("RSS with " + conns + " idle connections", daemon_conns, bare_conns, true);
    if (idle_cpu_) {
      rows.push_back({"CPU while idle (" + std::to_string(static_cast<int>(options_.idle_seconds)) + " s, fresh)",
                      format_percent((*idle_cpu_)[0]) + " of a CPU", "bare " + format_percent((*idle_cpu_)[1]), "",
                      "≈ 0 (< 0.5 %)", (*idle_cpu_)[0] < kIdleCpuTarget});
    }
    print_table("Footprint (VmRSS and CPU time from /proc; one measurement each)", rows);
  }

  // ---- scraping (issue 15 §4) -----------------------------------------------

  // GET /metrics every `interval` on a thread of its own (the load CPU),
  // as a Prometheus with a very short scrape interval would.
  class Scraper {
   public:
    Scraper(std::uint16_t port, std::chrono::milliseconds interval)
        : thread_([this, port, interval] {
            auto next = std::chrono::steady_clock::now();
            while (!stop_) {
              try {
                (test::http_get(port, "/metrics", std::chrono::seconds(1)).status == 200 ? served_ : failed_)++;
              } catch (const std::exception&) {
                ++failed_;
              }
              next += interval;
              std::this_thread::sleep_until(next);
            }
          })
    {
    }
    ~Scraper() { finish(); }
    Scraper(const Scraper&) = delete;
    Scraper& operator=(const Scraper&) = delete;
    void finish()
    {
      stop_ = true;
      if (thread_.joinable()) thread_.join();
    }
    std::uint64_t served() const { return served_; }
    std::uint64_t failed() const { return failed_; }

   private:
    std::atomic<bool> stop_{false};
    std::atomic<std::uint64_t> served_{0}, failed_{0};
    std::thread thread_;
  };

  std::uint16_t metrics_port() const
  {
    std::ifstream log(path("rngpoold.sock.log"));
    const std::string text{std::istreambuf_iterator<char>(log), {}};
    static const std::regex line(R"(metrics at http://[^ ]*:([0-9]+)/metrics)");
    std::smatch match;
    if (!std::regex_search(text, match, line)) throw std::runtime_error("the daemon's log names no metrics port");
    return static_cast<std::uint16_t>(std::stoul(match[1]));
  }

  // The spread of the pairs: the noise the 2 % is judged against.
  static std::string printf_range(double low, double high)
  {
    char text[48];
    std::snprintf(text, sizeof text, "%.3f–%.3f", low, high);
    return text;
  }

  static std::string signed_change(double ratio)
  {
    char text[48];
    std::snprintf(text, sizeof text, "%.3f× (%+.1f %%)", ratio, (ratio - 1.0) * 100.0);
    return text;
  }

  // CPU time of the daemon's io thread (its main thread: tid = pid), from
  // schedstat; nullopt where the kernel has none.
  static std::optional<double> io_thread_seconds(pid_t pid)
  {
    std::ifstream in("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/schedstat");
    double ns = 0;
    if (!(in >> ns)) return std::nullopt;
    return ns / 1e9;
  }

  // What one scrape costs the daemon, measured where noise cannot hide it:
  // CPU time over back-to-back scrapes of the otherwise idle daemon, all
  // its threads and its io thread alone.  At one scrape per 100 ms that is
  // the fraction of a CPU a scraper takes from the request path.
  Row scrape_cost_row(std::uint16_t port) const
  {
    constexpr int kScrapes = 300;
    const pid_t pid = daemon_->pid();
    const double all0 = cpu_seconds(pid);
    const auto io0 = io_thread_seconds(pid);
    for (int i = 0; i < kScrapes; ++i) {
      if (test::http_get(port, "/metrics", std::chrono::seconds(1)).status != 200)
        throw std::runtime_error("a scrape failed");
      // Past the listener's 10 ms snapshot reuse: every scrape costs the io
      // thread a fresh snapshot.  The io thread's idle work (the hwrng
      // trickle) is counted too, so its figure is an upper bound.
      std::this_thread::sleep_for(std::chrono::milliseconds(12));
    }
    const double all_us = (cpu_seconds(pid) - all0) / kScrapes * 1e6;
    const auto io1 = io_thread_seconds(pid);
    const std::string io = io0 && io1 ? format_duration_us((*io1 - *io0) / kScrapes * 1e6) + " on the io thread"
                                      : "io thread: no schedstat";
    const double share = all_us * 1e-6 / std::chrono::duration<double>(kScrapeInterval).count();
    return {"daemon CPU per scrape (idle daemon, " + std::to_string(kScrapes) + " scrapes 12 ms apart)",
            format_duration_us(all_us) + " (" + io + ")", "",
            format_percent(share) + " of a CPU at one scrape per 100 ms", "≪ 2 %", share < kScrapeTolerance / 4};
  }

  // The same daemon, the same load, with and without a scraper, alternating
  // (who goes first swaps every pair); the ratio is the median of the pairs'.
  void scrape()
  {
    const std::uint16_t port = metrics_port();
    std::vector<Row> rows;
    std::uint64_t served = 0, failed = 0;
    for (int connections : {1, 16}) {
      std::vector<double> with, without, ratios;
      for (int rep = 0; rep < 2 * options_.repetitions; ++rep) {
        double rate[2] = {0, 0};  // [scraped]
        for (int turn = 0; turn < 2; ++turn) {
          const bool scraped = (turn == 0) == (rep % 2 == 0);
          std::optional<Scraper> scraper;
          if (scraped) scraper.emplace(port, kScrapeInterval);
          const auto result = run_load(plan(*daemon_, {{connections, 32, 1, false}}, options_.small_seconds));
          if (scraper) {
            scraper->finish();
            served += scraper->served();
            failed += scraper->failed();
          }
          rate[scraped] = result.replies_per_second();
          settle();
        }
        with.push_back(rate[1]);
        without.push_back(rate[0]);
        ratios.push_back(rate[1] / rate[0]);
      }
      const double ratio = median(ratios);
      rows.push_back({"32 B × " + std::to_string(connections) + " connections, GET /metrics every 100 ms",
                      format_rate(median(with)),
                      "no scraper " + format_rate(median(without)) + " · pair ratios " +
                          printf_range(*std::min_element(ratios.begin(), ratios.end()),
                                       *std::max_element(ratios.begin(), ratios.end())),
                      signed_change(ratio),
                      "within 2 %", std::abs(ratio - 1.0) <= kScrapeTolerance});
    }
    if (served == 0) throw std::runtime_error("no scrape succeeded");
    rows.push_back(scrape_cost_row(port));
    print_table("Scraping: 32-byte GET_RANDOM per second with and without a Prometheus scrape every 100 ms "
                "(same daemon, alternating)",
                rows,
                std::to_string(served) + " scrapes served, " + std::to_string(failed) +
                    " failed; the daemon's HTTP thread shares its CPU with the io thread.");
  }

  Options options_;
  test::TempDir dir_{"rngpool-bench"};
  std::string self_;
  Placement placement_;
  RunningServer* daemon_ = nullptr;
  RunningServer* bare_ = nullptr;
  std::optional<Metrics> fresh_rss_;  // KiB: daemon, bare
  std::optional<Metrics> idle_cpu_;   // fraction of a CPU: daemon, bare
  int failures_ = 0;
};

// Ours, including load threads that have ended (which /proc/self/task no
// longer lists).
double own_cpu_seconds()
{
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// 1024 idle connections plus the bench's own descriptors need more than the
// usual soft limit of 1024; the daemon inherits the raised limit too.
void raise_file_limit()
{
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace
}  // namespace rngpool::bench

int main(int argc, char** argv)
{
  using namespace rngpool::bench;
  const Options options = parse_options(argc, argv);
  // A server that vanishes mid-write must surface as an error, not kill us.
  std::signal(SIGPIPE, SIG_IGN);
  try {
    if (options.bare_server) run_bare_server(*options.bare_server);
    raise_file_limit();
    ServiceBench bench(options);
    return bench.run();
  } catch (const std::exception& e) {
    std::cerr << "bench_service: " << e.what() << "\n";
    return 1;
  }
}
