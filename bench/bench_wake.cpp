// Closed-loop GET_RANDOM with an emulated wake-up cost (issue 9).
//
// Why: on an idle 2-CPU VM a client that sleeps in epoll_wait(2) takes some
// 20 us to wake (the vCPU halts), and that is what held 64 KiB closed-loop
// requests to 0.71-0.79x the bare server; on a busy machine the vCPU never
// halts and the effect vanishes, so bench_service cannot show it there.
// This client spins for --wake-us after every wait that actually slept,
// which puts the cost back wherever it runs.  It measures servers that are
// already listening, in alternation, and reports each one's MB/s and its
// ratio to the first (the bare server, say), paired per round:
//
//   bench_service --bare-server /tmp/bare.sock &
//   rngpoold --socket /tmp/d.sock --hwrng none &
//   bench_wake --wake-us 20 /tmp/bare.sock /tmp/d.sock
//
// README › Performance ran servers and client SCHED_FIFO (chrt -f), pinned
// as bench_service pins them, so that other load does not decide the result.
#include "rngpool/protocol/frame.hpp"
#include "rngpool/test/unix_socket.hpp"

#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
namespace proto = rngpool::protocol;

struct Options {
  double wake_us = 20;
  std::uint32_t size = 64 * 1024;
  double seconds = 1.5;
  int rounds = 8;
  std::vector<std::string> sockets;
};

[[noreturn]] void usage(bool asked = false) {
  std::fprintf(asked ? stdout : stderr,
               "usage: bench_wake [--wake-us US] [--size BYTES] [--seconds S] [--rounds N] SOCKET...\n"
               "Closed-loop GET_RANDOM against each SOCKET in turn, spinning US microseconds (default 20)\n"
               "after every wait that slept; prints MB/s and the ratio to the first SOCKET.\n");
  std::exit(asked ? 0 : 2);
}

Options parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&] { return i + 1 < argc ? std::string(argv[++i]) : (usage(), std::string()); };
    if (arg == "--help" || arg == "-h") usage(true);
    if (arg == "--wake-us") options.wake_us = std::stod(value());
    else if (arg == "--size") options.size = static_cast<std::uint32_t>(std::stoul(value()));
    else if (arg == "--seconds") options.seconds = std::stod(value());
    else if (arg == "--rounds") options.rounds = std::stoi(value());
    else if (arg.starts_with("-")) usage();
    else options.sockets.push_back(arg);
  }
  if (options.sockets.empty() || options.rounds < 1 || options.seconds <= 0 || options.wake_us < 0) usage();
  return options;
}

void spin_for(Clock::duration time) {
  const auto until = Clock::now() + time;
  while (Clock::now() < until) {
  }
}

// MB/s of closed-loop requests on one fresh connection.
double closed_loop(const std::string& socket, const Options& options) {
  rngpool::test::Fd fd = rngpool::test::connect_unix(socket);
  rngpool::test::set_nonblocking(fd.get());
  rngpool::test::Fd epoll(::epoll_create1(EPOLL_CLOEXEC));
  epoll_event event{};
  event.events = EPOLLIN;
  if (!epoll || ::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, fd.get(), &event) != 0) rngpool::test::throw_errno("epoll");
  const auto wake = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double, std::micro>(options.wake_us));
  std::array<std::uint8_t, 64 * 1024> buffer{};
  std::uint64_t bytes = 0;
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options.seconds));
  for (std::uint32_t id = 1; Clock::now() < end; ++id) {
    const auto request = proto::encode_get_random(id, options.size);
    if (::write(fd.get(), request.data(), request.size()) != static_cast<ssize_t>(request.size()))
      rngpool::test::throw_errno("write request");
    for (std::size_t left = proto::kHeaderSize + options.size; left > 0;) {
      const ssize_t n = ::read(fd.get(), buffer.data(), std::min(buffer.size(), left));
      if (n > 0) {
        left -= static_cast<std::size_t>(n);
      } else if (n < 0 && errno == EAGAIN) {
        epoll_event ready{};
        ::epoll_wait(epoll.get(), &ready, 1, -1);
        spin_for(wake);  // what waking from a halted vCPU would have cost
      } else if (n == 0) {
        throw std::runtime_error(socket + ": the server closed the connection");
      } else if (errno != EINTR) {
        rngpool::test::throw_errno("read reply");
      }
    }
    bytes += options.size;
  }
  return static_cast<double>(bytes) / std::chrono::duration<double>(Clock::now() - start).count() / 1e6;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse(argc, argv);
  std::vector<std::vector<double>> rates(options.sockets.size());
  for (int round = 0; round < options.rounds; ++round)
    for (std::size_t i = 0; i < options.sockets.size(); ++i) rates[i].push_back(closed_loop(options.sockets[i], options));
  std::printf("%u-byte closed-loop requests, %.0f us per wake-up, %d rounds of %.1f s\n", options.size,
              options.wake_us, options.rounds, options.seconds);
  for (std::size_t i = 0; i < options.sockets.size(); ++i) {
    std::vector<double> ratios;
    for (int round = 0; round < options.rounds; ++round)
      ratios.push_back(rates[i][static_cast<std::size_t>(round)] / rates[0][static_cast<std::size_t>(round)]);
    std::printf("%s: %.0f MB/s, %.2fx the first (%.2f-%.2f)\n", options.sockets[i].c_str(), median(rates[i]),
                median(ratios), *std::min_element(ratios.begin(), ratios.end()),
                *std::max_element(ratios.begin(), ratios.end()));
  }
}
