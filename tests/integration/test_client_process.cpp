// librngpool under process events: fork, daemon restart, no daemon, threads.
#include "rngpool/rngpool.hpp"
#include "rngpool/test/support.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstring>
#include <optional>
#include <set>
#include <thread>

#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace rngpool;
using namespace rngpool::test;

namespace {

std::string as_text(const std::vector<std::uint8_t>& bytes) { return {bytes.begin(), bytes.end()}; }

// Reads everything from fd until EOF.
std::string read_all(int fd) {
  std::string data;
  char buffer[4096];
  for (ssize_t got; (got = ::read(fd, buffer, sizeof buffer)) > 0;) data.append(buffer, static_cast<std::size_t>(got));
  return data;
}

}  // namespace

TEST_CASE("client: after fork the child gets fresh bytes and the parent is unaffected", "[client][fork]") {
  TestDaemon daemon;
  const Client client(daemon.socket_path());
  const auto before = client.token_bytes(32);  // the parent's connection is open now

  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // The child: no Catch here, only the library and an exit code.
    ::close(pipe_fds[0]);
    int code = 0;
    try {
      std::string out;
      for (int i = 0; i < 200; ++i) out += as_text(client.token_bytes(32));
      if (::write(pipe_fds[1], out.data(), out.size()) != static_cast<ssize_t>(out.size())) code = 2;
    } catch (...) {
      code = 1;
    }
    ::_exit(code);
  }
  ::close(pipe_fds[1]);
  // The parent keeps using its connection while the child uses its own: had
  // they shared one stream, replies would cross and request ids mismatch.
  std::set<std::string> parent_blocks{as_text(before)};
  for (int i = 0; i < 200; ++i) parent_blocks.insert(as_text(client.token_bytes(32)));
  const std::string child_out = read_all(pipe_fds[0]);
  ::close(pipe_fds[0]);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  REQUIRE(child_out.size() == 200 * 32);
  CHECK(parent_blocks.size() == 201);
  for (std::size_t i = 0; i < child_out.size(); i += 32) {
    CHECK(parent_blocks.count(child_out.substr(i, 32)) == 0);
  }
  CHECK(client.token_bytes(16).size() == 16);  // still usable in the parent
}

TEST_CASE("client: recovers when the daemon restarted between requests", "[client][restart]") {
  TempDir dir("rngpool-restart");
  const std::string path = (dir.path() / "rngpool.sock").native();
  std::optional<TestDaemon> daemon(std::in_place, DaemonConfig{.socket_path = path});
  const Client client(path);
  CHECK(client.token_hex(8).size() == 16);
  REQUIRE(daemon->stop() == 0);
  daemon.reset();
  daemon.emplace(DaemonConfig{.socket_path = path});
  // The old connection is dead; the client reconnects once and carries on.
  CHECK(client.token_hex(8).size() == 16);
  CHECK(client.status().size() > 0);
  CHECK(client.randbelow(100) < 100);
}

TEST_CASE("client: no daemon gives a clear error at once", "[client]") {
  TempDir dir("rngpool-absent");
  const std::string path = (dir.path() / "rngpool.sock").native();
  const Client client(path);
  const auto start = std::chrono::steady_clock::now();
  try {
    client.token_bytes(8);
    FAIL("no error without a daemon");
  } catch (const Error& error) {
    CHECK(error.kind() == ErrorKind::connect);
    CHECK(std::string(error.what()) ==
          "cannot connect to " + path + ": No such file or directory \u2014 is rngpoold running?");
  }
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
}

TEST_CASE("client: a daemon that never answers costs at most the I/O timeout", "[client]") {
  // A socket that listens but never accepts: connect succeeds, no reply comes.
  TempDir dir("rngpool-hung");
  const std::string path = (dir.path() / "rngpool.sock").native();
  const int listener = ::socket(AF_UNIX, SOCK_STREAM, 0);
  REQUIRE(listener >= 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  REQUIRE(::bind(listener, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0);
  REQUIRE(::listen(listener, 8) == 0);

  ClientOptions options;
  options.socket_path = path;
  options.io_timeout = std::chrono::milliseconds(300);
  const Client client(options);
  const auto start = std::chrono::steady_clock::now();
  try {
    client.token_bytes(8);
    FAIL("no error from a silent daemon");
  } catch (const Error& error) {
    CHECK(error.kind() == ErrorKind::timeout);
    CHECK_THAT(error.what(), Catch::Contains("did not answer within 300 ms"));
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(elapsed >= std::chrono::milliseconds(300));
  CHECK(elapsed < std::chrono::seconds(3));
  ::close(listener);
}

TEST_CASE("client: 16 threads share one client", "[client][threads]") {
  TestDaemon daemon;
  const Client client(daemon.socket_path());
  constexpr int kThreads = 16;
  constexpr int kEach = 100;
  std::vector<std::vector<std::string>> results(kThreads);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      try {
        for (int i = 0; i < kEach; ++i) {
          results[static_cast<std::size_t>(t)].push_back(
              i % 2 ? client.token_hex(16) : std::to_string(client.randbelow(1000000)) + as_text(client.token_bytes(16)));
        }
      } catch (...) {
        ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(failures == 0);
  std::set<std::string> all;
  for (const auto& list : results) {
    CHECK(list.size() == kEach);
    all.insert(list.begin(), list.end());
  }
  CHECK(all.size() == kThreads * kEach);  // nobody got anybody else's bytes
}
