// bench_local: librngpool's local generator (issue 11) against its in-process
// baselines, in one process, in the same run.
//
// Every row of the table is measured against its baseline in the same
// repetition (rngpool and baseline alternate, so a noisy neighbour on this
// shared machine hurts both), and the ratio is the median of the
// per-repetition ratios.  The same rows are measured again with the local
// generator off (every call a daemon round trip: the path before issue 11),
// so the gain is visible.  The daemon is the real rngpoold this build made,
// on a temporary socket with a FIFO hwrng.
//
// Usage: bench_local [--reps N] [--ms MILLISECONDS]
#include "rngpool/rngpool.h"
#include "rngpool/rngpool.hpp"
#include "rngpool/test/support.hpp"
#include "support/keystream.hpp"
#include "support/report.hpp"
#include "support/reps_options.hpp"
#include "support/stats.hpp"

#include <sys/random.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iostream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
namespace bench = rngpool::bench;

using Options = bench::RepsOptions;

// Calls per second of `call` over about `ms`, reading the clock every
// `batch` calls (a clock read costs about as much as a local 32-byte token).
double rate(const std::function<void()>& call, int ms, int batch = 64) {
  const auto start = Clock::now();
  const auto until = start + std::chrono::milliseconds(ms);
  std::uint64_t calls = 0;
  auto now = start;
  do {
    for (int i = 0; i < batch; ++i) call();
    calls += static_cast<std::uint64_t>(batch);
    now = Clock::now();
  } while (now < until);
  return static_cast<double>(calls) / std::chrono::duration<double>(now - start).count();
}

// `threads` threads each running `call` for `ms`: total calls per second.
double rate_threads(int threads, const std::function<void()>& call, int ms) {
  std::vector<double> rates(static_cast<std::size_t>(threads));
  std::vector<std::thread> running;
  for (int t = 0; t < threads; ++t) {
    running.emplace_back([&, t] { rates[static_cast<std::size_t>(t)] = rate(call, ms); });
  }
  for (auto& thread : running) thread.join();
  double total = 0;
  for (double r : rates) total += r;
  return total;
}

void getrandom_exact(void* out, std::size_t n) {
  auto* p = static_cast<std::uint8_t*>(out);
  while (n > 0) {
    const ssize_t got = ::getrandom(p, n, 0);
    if (got < 0) throw std::runtime_error("getrandom failed");
    p += got;
    n -= static_cast<std::size_t>(got);
  }
}

// The baseline for randbelow(6): getrandom of 8 bytes, then Lemire's
// reduction with its (rare) rejection, as draws.cpp does.
std::uint64_t getrandom_below(std::uint64_t n) {
  using u128 = unsigned __int128;
  for (;;) {
    std::uint64_t x = 0;
    getrandom_exact(&x, sizeof x);
    const u128 product = static_cast<u128>(x) * n;
    const auto low = static_cast<std::uint64_t>(product);
    if (low >= n || low >= (0 - n) % n) return static_cast<std::uint64_t>(product >> 64);
  }
}

// A measured pair: rngpool and its baseline, alternating, `reps` times.
struct Pair {
  double rngpool;   // median
  double baseline;  // median
  double ratio;     // median of per-repetition rngpool/baseline
};

Pair measure(int reps, const std::function<double()>& ours, const std::function<double()>& theirs) {
  std::vector<double> a, b, r;
  for (int rep = 0; rep < reps; ++rep) {
    a.push_back(ours());
    b.push_back(theirs());
    r.push_back(a.back() / b.back());
  }
  return {bench::median(a), bench::median(b), bench::median(r)};
}

std::uint64_t requests_served(const std::string& socket) {
  return rngpool::test::status_number(rngpool::test::status_report(socket), "requests_served");
}

// Daemon requests made while `tokens` tokens of 32 B are drawn by `threads`
// threads of one fresh client (the STATUS we ask with is subtracted).
double requests_for(const std::string& socket, bool local, std::uint64_t tokens, int threads) {
  rngpool::ClientOptions options;
  options.socket_path = socket;
  options.local_generator = local;
  const rngpool::Client client(options);
  const std::uint64_t status_cost = [&] {
    const auto a = requests_served(socket);
    return requests_served(socket) - a;
  }();
  const auto before = requests_served(socket);
  std::vector<std::thread> running;
  for (int t = 0; t < threads; ++t) {
    running.emplace_back([&] {
      std::uint8_t token[32];
      for (std::uint64_t i = 0; i < tokens / static_cast<std::uint64_t>(threads); ++i) client.fill(token);
    });
  }
  for (auto& thread : running) thread.join();
  return static_cast<double>(requests_served(socket) - before - status_cost);
}

rngpool::Client make_client(const std::string& socket, bool local) {
  rngpool::ClientOptions options;
  options.socket_path = socket;
  options.local_generator = local;
  return rngpool::Client(options);
}

}  // namespace

int main(int argc, char** argv) try {
  const Options options = bench::parse_reps_options(argc, argv, {.reps = 7, .ms = 200});
  rngpool::test::TestDaemon daemon;
  const std::string socket = daemon.socket_path();
  ::setenv("RNGPOOL_SOCKET", socket.c_str(), 1);  // the free functions' default client

  std::cout << "## librngpool local generator (bench_local)\n\n"
            << "- machine: " << std::thread::hardware_concurrency() << " CPUs, " << bench::cpu_model() << "\n"
            << "- every figure is the median of " << options.reps << " repetitions of " << options.ms
            << " ms; rngpool and its baseline alternate, a ratio is the median of per-repetition ratios\n";

  const int reps = options.reps, ms = options.ms;
  std::vector<bench::Row> rows;
  const auto add = [&](std::string name, const Pair& p, const std::string& unit_ours,
                       const std::string& unit_theirs, double target, bool has_target) {
    rows.push_back({std::move(name), unit_ours, unit_theirs, bench::format_ratio(p.ratio),
                    has_target ? "≥ " + bench::format_ratio(target) : "—",
                    has_target ? std::optional<bool>(p.ratio >= target) : std::nullopt});
  };

  for (const bool local : {true, false}) {
    const rngpool::Client client = make_client(socket, local);
    const rngpool::Client client2 = make_client(socket, local);
    rngpool_client* c = rngpool_open_with(socket.c_str(), local ? 0u : RNGPOOL_NO_LOCAL_GENERATOR);
    const std::string off = local ? "" : " [local off]";
    // Off, every call is a round trip: shorter runs keep the bench short.
    const int run = local ? ms : std::max(20, ms / 4);

    std::uint8_t buf32[32];
    std::vector<std::uint8_t> mib(std::size_t{1} << 20);
    const auto getrandom32 = [&] { return rate([&] { getrandom_exact(buf32, 32); }, run); };

    // token_bytes(32): the free function when on (the default client has it
    // on), the C++ client's call when off.
    const auto token = [&] {
      if (local) return rate([] { (void)rngpool::token_bytes(32); }, run);
      return rate([&] { (void)client.token_bytes(32); }, run);
    };
    const Pair t1 = measure(reps, token, getrandom32);
    add((local ? "`token_bytes(32)` (free function), 1 thread" : "`Client::token_bytes(32)`, 1 thread") + off +
            " vs `getrandom(2)` 32 B",
        t1, bench::format_rate(t1.rngpool), bench::format_rate(t1.baseline), 5, local);

    std::uint64_t sink = 0;
    const Pair below = measure(
        reps, [&] { return rate([&] { sink += client.randbelow(6); }, run); },
        [&] { return rate([&] { sink += getrandom_below(6); }, run); });
    add("`randbelow(6)`, 1 thread" + off + " vs getrandom 8 B + reduction", below,
        bench::format_rate(below.rngpool), bench::format_rate(below.baseline), 5, local);

    const auto one_thread = [&] { return rate_threads(1, [&] { (void)client2.token_bytes(32); }, run); };
    const auto two_threads = [&] { return rate_threads(2, [&] { (void)client2.token_bytes(32); }, run); };
    const Pair threads = measure(reps, two_threads, one_thread);
    add("`token_bytes(32)`, 2 threads" + off + " vs 1 thread", threads, bench::format_rate(threads.rngpool),
        bench::format_rate(threads.baseline), 1.8, local);
    if (local) {
      // What a second thread can gain on this machine at all: getrandom(2),
      // which shares nothing in user space, measured the same way.
      const Pair machine = measure(
          reps, [&] { return rate_threads(2, [] { std::uint8_t b[32]; getrandom_exact(b, 32); }, run); },
          [&] { return rate_threads(1, [] { std::uint8_t b[32]; getrandom_exact(b, 32); }, run); });
      add("`getrandom(2)` 32 B, 2 threads vs 1 thread (the machine's own scaling)", machine,
          bench::format_rate(machine.rngpool), bench::format_rate(machine.baseline), 1.8, false);
    }

    bench::Keystream keystream;
    const auto mbps = [](double per_second) { return bench::format_mbps(per_second * (1 << 20) / 1e6); };
    const Pair bulk = measure(
        reps, [&] { return rate([&] { client.fill(mib); }, run, 1); },
        [&] { return rate([&] { keystream.fill(mib); }, run, 1); });
    add("`token_bytes(1 MiB)`" + off + " vs raw EVP ChaCha20", bulk, mbps(bulk.rngpool), mbps(bulk.baseline), 0.9,
        local);

    if (local) {
      // The same with a reseed every 16 GiB: the generator's own cost, so the
      // row above shows what the daemon round trip per MiB adds (on a loaded
      // machine, mostly waiting for the daemon to be scheduled).
      rngpool::ClientOptions big;
      big.socket_path = socket;
      big.reseed_bytes = std::size_t{1} << 34;
      const rngpool::Client rare(big);
      const Pair alone = measure(
          reps, [&] { return rate([&] { rare.fill(mib); }, run, 1); },
          [&] { return rate([&] { keystream.fill(mib); }, run, 1); });
      add("`token_bytes(1 MiB)`, reseed every 16 GiB (the generator alone) vs raw EVP ChaCha20", alone,
          mbps(alone.rngpool), mbps(alone.baseline), 0.9, false);
    }

    const Pair capi = measure(
        reps, [&] { return rate([&] { (void)rngpool_bytes(c, buf32, 32); }, run); },
        [&] { return rate([&] { client.fill(buf32); }, run); });
    add("C API `rngpool_bytes(32)`" + off + " vs C++ `Client::fill` 32 B", capi, bench::format_rate(capi.rngpool),
        bench::format_rate(capi.baseline), 0.9, local);

    // Requests per 10^6 tokens: counted over 10^6 when on; off, every token
    // is one request, so 10^4 tokens are counted and scaled.
    const std::uint64_t tokens = local ? 1'000'000 : 10'000;
    for (const int n : {1, 2}) {
      const double requests = requests_for(socket, local, tokens, n) * (1e6 / static_cast<double>(tokens));
      rows.push_back({"daemon requests per 10⁶ tokens of 32 B, " + std::to_string(n) + " thread(s)" + off,
                      std::to_string(static_cast<long long>(requests + 0.5)), "—", "—",
                      local ? "≤ 40" : "—", local ? std::optional<bool>(requests <= 40) : std::nullopt});
    }
    rngpool_close(c);
    if (sink == 42) std::cout << "";  // keep the draws
  }
  bench::print_table("Local generator (issue 11)", rows,
                     "Targets apply to the rows with the local generator on; the [local off] rows are the path "
                     "every call took before (one daemon round trip each).");
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "bench_local: %s\n", e.what());
  return 1;
}
