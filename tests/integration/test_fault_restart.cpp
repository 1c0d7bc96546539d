// A daemon restarted under systemd-socket-activate while clients are busy
// (issue 5 §3): each client either gets a whole, correct reply or an error
// (and reconnects); never a reply of the wrong length, never bytes it has
// seen before.
#include "robustness_support.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>
#include <random>
#include <thread>

using namespace rngpool;
using namespace rngpool::test;
using namespace rngpool::test::robustness;
using namespace std::chrono_literals;
using protocol::Status;

namespace {

struct Tally {
  std::mutex mutex;
  BlockRepeats blocks;
  std::atomic<std::uint64_t> replies{0};
  std::atomic<std::uint64_t> interrupted{0};  // EOF, reset or refused connect: allowed
  std::vector<std::string> wrong;             // any reply that is not exactly right
};

// One client: requests of random sizes until `stop`, reconnecting after any
// error.  `generation` says which daemon is current; replies on connections
// opened under generation g count in served[g].
void client(const std::string& socket_path, Tally& tally, const std::atomic<bool>& stop,
            const std::atomic<int>& generation, std::array<std::atomic<std::uint64_t>, 2>& served,
            unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<std::uint32_t> size(1, 256 * 1024);
  std::uint32_t id = 0;
  while (!stop) {
    int connected_in = generation;
    std::optional<TestConnection> connection;
    try {
      connection.emplace(socket_path, 10s);
    } catch (const std::exception&) {
      ++tally.interrupted;
      std::this_thread::sleep_for(10ms);
      continue;
    }
    try {
      while (!stop) {
        std::uint32_t count = size(rng);
        auto reply = get_random(*connection, count, 0, ++id);
        std::lock_guard lock(tally.mutex);
        if (reply.header.status != Status::ok || reply.header.request_id != id ||
            reply.payload.size() != count) {
          tally.wrong.push_back(std::string(protocol::status_name(reply.header.status)) + " id " +
                                std::to_string(reply.header.request_id) + "/" + std::to_string(id) + ", " +
                                std::to_string(reply.payload.size()) + " of " + std::to_string(count) + " bytes");
          break;
        }
        tally.blocks.add(reply.payload);
        ++tally.replies;
        ++served[static_cast<std::size_t>(connected_in)];
      }
    } catch (const std::exception&) {
      ++tally.interrupted;  // the old daemon went away mid-request
    }
  }
}

}  // namespace

TEST_CASE("restart under systemd-socket-activate with clients connected", "[fault][restart][systemd]") {
  if (run_command("command -v systemd-socket-activate").exit_code != 0) {
    WARN("systemd-socket-activate is not installed: the socket-activated restart is not tested");
    return;
  }
  TempDir dir("rngpool-restart");
  const std::string socket_path = (dir.path() / "rngpool.sock").native();
  const DaemonConfig config{.socket_path = socket_path, .socket_activated = true};

  auto first = std::make_unique<TestDaemon>(config);
  Tally tally;
  std::atomic<bool> stop{false};
  std::atomic<int> generation{0};
  std::array<std::atomic<std::uint64_t>, 2> served{};
  constexpr int kClients = 8;
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i)
    clients.emplace_back(client, socket_path, std::ref(tally), std::cref(stop), std::cref(generation),
                         std::ref(served), static_cast<unsigned>(i + 1));
  auto finish = [&] {
    stop = true;
    for (auto& thread : clients) thread.join();
  };

  bool busy = eventually([&] { return served[0] >= 200; }, 20s);
  // Replies are in flight on every connection when SIGTERM arrives.
  int first_exit = first->stop();
  std::string first_log = first->log();
  generation = 1;
  std::unique_ptr<TestDaemon> second;
  try {
    second = std::make_unique<TestDaemon>(config);
  } catch (...) {
    finish();
    throw;
  }
  bool reconnected = eventually([&] { return served[1] >= 200; }, 20s);
  finish();

  INFO("first daemon's log:\n" << first_log << "second daemon's log:\n" << second->log());
  CHECK(busy);
  CHECK(first_exit == 0);
  CHECK(reconnected);
  // Every client was connected to the first daemon, so its stop is seen.
  CHECK(tally.interrupted > 0);
  std::string wrong;
  for (const auto& line : tally.wrong) wrong += line + "\n";
  INFO("wrong replies:\n" << wrong);
  CHECK(tally.wrong.empty());
  INFO(tally.replies << " replies, " << tally.interrupted << " interrupted, " << tally.blocks.blocks()
                     << " blocks compared");
  CHECK(tally.blocks.repeats() == 0);
}
