// How the daemon cuts a reply into send(2)s (issue 9, "Also measured").
//
// A closed-loop client sleeps until its reply starts to arrive; a large
// reply's header must leave before its payload is generated, so the client's
// wake-up overlaps the generate (daemon/serve/connection.cpp, "Starting the
// write before a long generate"), while a small reply stays one send.  What a
// client reads does not show where one write ended, so the daemon runs with
// send_log_preload.c, which logs each send(2).
#include "rngpool/test/support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <numeric>
#include <string>
#include <vector>

using namespace rngpool;
using namespace rngpool::test;

namespace {

struct Send {
  std::size_t length;
  long result;
};

std::vector<Send> read_send_log(const std::filesystem::path& path) {
  std::vector<Send> sends;
  std::ifstream in(path);
  Send send{};
  while (in >> send.length >> send.result)
    sends.push_back(send);
  return sends;
}

std::vector<std::string> send_log_env(const std::filesystem::path& log) {
  std::vector<std::string> env = preload_env(RNGPOOL_SEND_LOG_PRELOAD);
  env.push_back("RNGPOOL_TEST_SEND_LOG=" + log.string());
  return env;
}

// A GET_RANDOM of this many bytes brackets each request under test: its
// reply, a single send of kMarkerReply bytes, marks where the request's
// sends begin and end in the log.
constexpr std::uint32_t kMarker = 7;
constexpr std::size_t kMarkerReply = protocol::kHeaderSize + kMarker;

bool is_marker(const Send& send) { return send.length == kMarkerReply; }

}  // namespace

TEST_CASE("a large reply's header is sent before its payload, a small reply in one send", "[binary][performance]") {
  TempDir scratch;
  const auto log = scratch.path() / "sends.log";
  TestDaemon daemon({.hwrng = HwrngFeed::none, .env = send_log_env(log)});
  TestConnection connection(daemon.socket_path());

  const std::vector<std::uint32_t> counts{32, 16 * 1024 - 1, 16 * 1024, 64 * 1024};
  get_random(connection, kMarker);
  for (std::uint32_t count : counts) {
    REQUIRE(get_random(connection, count).payload.size() == count);
    get_random(connection, kMarker);
  }
  // The last marker's line is written just after its send returns.
  const auto markers = [&] {
    const auto sends = read_send_log(log);
    return static_cast<std::size_t>(std::count_if(sends.begin(), sends.end(), is_marker));
  };
  REQUIRE(eventually([&] { return markers() == counts.size() + 1; }, std::chrono::seconds{5}));

  // The sends between two markers are one request's.
  const auto sends = read_send_log(log);
  auto at = std::find_if(sends.begin(), sends.end(), is_marker);
  for (std::uint32_t count : counts) {
    CAPTURE(count);
    const auto begin = at + 1;
    at = std::find_if(begin, sends.end(), is_marker);
    std::vector<Send> request(begin, at);
    REQUIRE(!request.empty());
    // A send that found the socket full (-1, EAGAIN) is retried later.
    const long total = std::accumulate(request.begin(), request.end(), 0L, [](long sum, const Send& send) {
      return sum + std::max(send.result, 0L);
    });
    CHECK(total == static_cast<long>(protocol::kHeaderSize + count));
    if (count < 16 * 1024) {
      CHECK(request.size() == 1);
    } else {
      CHECK(request.front().length == protocol::kHeaderSize);
      CHECK(request.size() >= 2);
    }
  }
}
