// Output memory (issue 9 §13): --max-output-memory bounds the chunks of all
// stalled replies together, a reply past it waits and is still served in
// full, and a burst's memory leaves the process with the burst.
//
// RSS figures only mean something without a sanitizer's shadow memory and
// quarantine: under ASan these tests say so and check only what does not
// depend on them.
#include "robustness_support.hpp"

#include <catch2/catch.hpp>

#include <poll.h>
#include <sys/socket.h>

#include <thread>

using namespace rngpool;
using namespace rngpool::test;
using namespace rngpool::test::robustness;
using namespace std::chrono_literals;
using protocol::Status;

namespace {

constexpr int kClients = 250;
constexpr std::uint32_t kReply = 1u << 20;

// Clients that each ask for 1 MiB and do not read.
std::vector<RawSocket> stall(const std::string& socket, int clients) {
  std::vector<RawSocket> stalled;
  for (int i = 0; i < clients; ++i) {
    stalled.emplace_back(socket);
    stalled.back().send_all(protocol::encode_get_random(static_cast<std::uint32_t>(i), kReply));
  }
  return stalled;
}

// Reads every client's reply to the end, all at once (any order may be the
// one the daemon serves them in); returns how many got all of it.
int read_all(std::vector<RawSocket>& clients, std::chrono::seconds timeout) {
  const std::size_t whole = protocol::kHeaderSize + kReply;
  std::vector<std::size_t> got(clients.size(), 0);
  std::vector<std::uint8_t> scratch(1 << 16);
  int done = 0;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (done < static_cast<int>(clients.size()) && std::chrono::steady_clock::now() < deadline) {
    std::vector<pollfd> fds;
    for (std::size_t i = 0; i < clients.size(); ++i)
      if (got[i] < whole) fds.push_back({clients[i].fd(), POLLIN, 0});
    if (::poll(fds.data(), fds.size(), 1000) <= 0) continue;
    for (std::size_t i = 0, f = 0; i < clients.size(); ++i) {
      if (got[i] >= whole) continue;
      if (fds[f++].revents == 0) continue;
      ssize_t n = ::recv(clients[i].fd(), scratch.data(), std::min(scratch.size(), whole - got[i]), MSG_DONTWAIT);
      if (n <= 0) continue;
      if (got[i] == 0) CHECK(scratch[3] == static_cast<std::uint8_t>(Status::ok));
      got[i] += static_cast<std::size_t>(n);
      done += got[i] == whole;
    }
  }
  return done;
}

std::uint64_t settled_rss(pid_t pid) {
  std::this_thread::sleep_for(1s);  // the daemon fills what socket buffers it can
  return rss_kib(pid);
}

}  // namespace

TEST_CASE("the output memory limit bounds stalled replies, which wait and are then served in full", "[memory]") {
  TestDaemon daemon({.hwrng = HwrngFeed::none, .args = {"--max-output-memory", "4M"}});
  TestConnection warm(daemon.socket_path());
  CHECK(get_random(warm, kReply).payload.size() == kReply);
  const auto before = rss_kib(daemon.pid());

  auto stalled = stall(daemon.socket_path(), kClients);
  const auto during = settled_rss(daemon.pid());
  INFO("daemon VmRSS " << before << " KiB before, " << during << " KiB with " << kClients << " stalled clients");
  // Unbounded: 250 chunks of 64 KiB, 16 MiB.  Bounded: 4 MiB of chunks and
  // the connections themselves (a few KiB each).
  if constexpr (!kSanitized)
    CHECK(during <= before + 9 * 1024);
  else
    WARN("sanitizer build: the RSS bound is not checked");
  // Every reply needs a chunk: this PING waits for one with the rest.
  warm.send(protocol::encode_request(protocol::Opcode::ping, 9));

  CHECK(read_all(stalled, 120s) == kClients);
  Reply pong = warm.read_reply();
  CHECK(pong.header.status == Status::ok);
  CHECK(pong.header.request_id == 9);
}

TEST_CASE("the memory of a burst of stalled replies is given back when the clients leave", "[memory]") {
  TestDaemon daemon({.hwrng = HwrngFeed::none});
  TestConnection watcher(daemon.socket_path());
  CHECK(get_random(watcher, kReply).payload.size() == kReply);
  REQUIRE(eventually([&] { return status_number(status_report(watcher), "clients_connected") == 1; }));
  const auto before = rss_kib(daemon.pid());

  auto stalled = stall(daemon.socket_path(), kClients);
  const auto during = settled_rss(daemon.pid());
  stalled.clear();
  REQUIRE(eventually([&] { return status_number(status_report(watcher), "clients_connected") == 1; }));
  const auto after = settled_rss(daemon.pid());
  INFO("daemon VmRSS " << before << " KiB before, " << during << " KiB with " << kClients << " stalled clients, "
                       << after << " KiB after they left");
  if constexpr (kSanitized) {
    WARN("sanitizer build: RSS is not checked (quarantine keeps freed memory)");
    return;
  }
  CHECK(during >= before + 8 * 1024);  // the burst did cost memory
  CHECK(after <= before + 3 * 1024);
  WARN("daemon VmRSS " << before << " KiB before, " << during << " KiB during, " << after << " KiB after");
}
