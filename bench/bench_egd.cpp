// The EGD socket's request rate (issue 13 §4): 0x02 32 on one connection
// against the binary protocol's 32-byte GET_RANDOM on one connection, same
// daemon, same run; and 0x02 64 (what QEMU's rng-egd asks for a guest's
// virtio-rng) against the bare EGD server (support/bare_egd_server.hpp), the
// ceiling a perfect daemon could reach on this machine.
//
// bench_egd --bare-server PATH runs that bare server (bench/guest-egd uses it
// too) and never returns.
//
// Both loops are the same closed loop -- send one request, read its whole
// reply with blocking calls, send the next -- on a connection of their own to
// one daemon, alternating within each repetition (and swapping order every
// other one) so that drift in the machine's load hits both alike.  The
// figure is the median over the repetitions; the ratio is EGD over binary,
// target >= 0.8.  The daemon runs on CPU 0 and the client on CPU 1 when
// there are two.
#include "rngpool/protocol/frame.hpp"
#include "rngpool/test/child_process.hpp"
#include "rngpool/test/test_daemon.hpp"
#include "rngpool/test/unix_socket.hpp"
#include "support/bare_egd_server.hpp"
#include "support/report.hpp"
#include "support/server_process.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <functional>
#include <span>
#include <variant>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using rngpool::test::Fd;

constexpr double kTarget = 0.8;

struct Settings {
  int reps = 7;
  double seconds = 1.0;
};

// One request and its complete reply, checked.
using RoundTrip = std::function<void()>;

double requests_per_second(const RoundTrip& round_trip, double seconds) {
  for (int i = 0; i < 200; ++i)  // warm-up
    round_trip();
  const auto end = Clock::now() + std::chrono::duration<double>(seconds);
  std::uint64_t done = 0;
  const auto start = Clock::now();
  for (; Clock::now() < end; ++done)
    round_trip();
  return static_cast<double>(done) / std::chrono::duration<double>(Clock::now() - start).count();
}

// Plain blocking calls, the same for both protocols, so the loop costs both
// the same and the difference is the daemon's.
void send_all(int fd, std::span<const std::uint8_t> bytes) {
  if (::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(bytes.size()))
    throw std::runtime_error("send failed");
}

void read_exact(int fd, std::uint8_t* out, std::size_t n) {
  while (n > 0) {
    const ssize_t got = ::read(fd, out, n);
    if (got <= 0)
      throw std::runtime_error("the daemon closed the connection");
    out += got;
    n -= static_cast<std::size_t>(got);
  }
}

RoundTrip binary_get_random(const Fd& connection) {
  const auto frame = rngpool::protocol::encode_get_random(1, 32);
  return [fd = connection.get(), frame] {
    std::uint8_t reply[rngpool::protocol::kHeaderSize + 32];
    send_all(fd, frame);
    read_exact(fd, reply, sizeof reply);
    const auto header = rngpool::protocol::decode_reply_header(
        std::span<const std::uint8_t, rngpool::protocol::kHeaderSize>(reply, rngpool::protocol::kHeaderSize));
    const auto* ok = std::get_if<rngpool::protocol::Header>(&header);
    if (!ok || ok->status != rngpool::protocol::Status::ok || ok->length != 32)
      throw std::runtime_error("a GET_RANDOM 32 reply that is not 32 bytes OK");
  };
}

RoundTrip egd_read_blocking(const Fd& connection, std::uint8_t n) {
  return [fd = connection.get(), n] {
    const std::uint8_t request[2] = {0x02, n};
    std::uint8_t reply[255];
    send_all(fd, request);
    read_exact(fd, reply, n);
  };
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

Settings parse(int argc, char** argv) {
  Settings settings;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--reps" && i + 1 < argc)
      settings.reps = std::max(1, std::atoi(argv[++i]));
    else if (arg == "--seconds" && i + 1 < argc)
      settings.seconds = std::max(0.05, std::atof(argv[++i]));
    else if (arg == "--bare-server" && i + 1 < argc)
      rngpool::bench::run_bare_egd_server(argv[++i]);
    else if (arg == "--quick")
      settings = {3, 0.2};
    else {
      const bool help = arg == "--help" || arg == "-h";
      (help ? std::cout : std::cerr) << "usage: bench_egd [--reps N] [--seconds S] [--quick] | --bare-server PATH\n";
      std::exit(help ? 0 : 2);
    }
  }
  return settings;
}

}  // namespace

int main(int argc, char** argv) {
  const Settings settings = parse(argc, argv);
  const bool pin = std::thread::hardware_concurrency() >= 2;
  rngpool::test::DaemonConfig config{.hwrng = rngpool::test::HwrngFeed::none};
  if (pin)
    config.wrapper = {"taskset", "-c", "0"};
  rngpool::test::TempDir dir("rngpool-bench-egd");
  config.egd_socket_path = (dir.path() / "egd.sock").native();
  rngpool::test::TestDaemon daemon(config);
  if (pin)
    rngpool::test::pin_to_cpu(1);

  // The bare server on the daemon's CPU, so that both answer from the same place.
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  const std::string bare_path = (dir.path() / "bare-egd.sock").native();
  auto bare = rngpool::bench::RunningServer::start(
      {"bare EGD server", {self, "--bare-server", bare_path}, bare_path, (dir.path() / "notify-bare").native(),
       (dir.path() / "bare.log").native()},
      pin ? std::optional<int>(0) : std::nullopt);

  const Fd binary = rngpool::test::connect_unix(daemon.socket_path());
  const Fd egd = rngpool::test::connect_unix(config.egd_socket_path);
  const Fd egd_bare = rngpool::test::connect_unix(bare_path);
  // binary 32, EGD 32 (the pair the target is on), EGD 64, bare EGD 64.
  constexpr int kLoops = 4;
  const RoundTrip trips[kLoops] = {binary_get_random(binary), egd_read_blocking(egd, 32),
                                   egd_read_blocking(egd, 64), egd_read_blocking(egd_bare, 64)};
  std::vector<double> rates[kLoops];
  for (int rep = 0; rep < settings.reps; ++rep)
    for (int k = 0; k < kLoops; ++k) {
      const int which = rep % 2 == 0 ? k : kLoops - 1 - k;
      rates[which].push_back(requests_per_second(trips[which], settings.seconds));
    }
  const double binary_rate = median(rates[0]);
  const double egd_rate = median(rates[1]);
  const double ratio = egd_rate / binary_rate;
  const double egd64 = median(rates[2]), bare64 = median(rates[3]);

  std::printf("## EGD socket (bench_egd)\n\n");
  std::printf("One connection each, closed loop, %d × %.1f s, medians; %s; CPU: %s.\n\n", settings.reps,
              settings.seconds, pin ? "daemon and bare EGD server on CPU 0, client on CPU 1" : "unpinned",
              rngpool::bench::cpu_model().c_str());
  std::printf("| request | requests/s | ratio | target |\n|---|---:|---:|---|\n");
  std::printf("| binary GET_RANDOM 32 | %.0f | 1.00 | |\n", binary_rate);
  std::printf("| EGD 0x02 32 | %.0f | %.2f × binary | ≥ %.1f %s |\n", egd_rate, ratio, kTarget,
              ratio >= kTarget ? "met" : "MISSED");
  std::printf("| bare EGD server 0x02 64 | %.0f | 1.00 | |\n", bare64);
  std::printf("| EGD 0x02 64 (QEMU's size) | %.0f | %.2f × bare | |\n", egd64, egd64 / bare64);
  return 0;
}
