// Starting and stopping: the socket file, systemd activation and notification.
#include "rngpool/test/support.hpp"

#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <regex>

using namespace rngpool;
using namespace rngpool::test;
using protocol::Status;

namespace {

// What a daemon that crashed leaves behind: a socket file nobody listens on.
void make_stale_socket(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  REQUIRE(bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0);
  close(fd);
}

bool is_socket(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode);
}

}  // namespace

TEST_CASE("SIGTERM stops the daemon with exit status 0", "[lifecycle]") {
  TestDaemon daemon;
  TestConnection connection(daemon.socket_path());
  REQUIRE(ping(connection).header.status == Status::ok);
  CHECK(daemon.stop() == 0);
  INFO(daemon.log());
  CHECK(connection.wait_closed());
}

TEST_CASE("the socket file gets --socket-mode", "[lifecycle]") {
  TestDaemon daemon({.args = {"--socket-mode", "0600"}});
  struct stat st {};
  REQUIRE(stat(daemon.socket_path().c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
}

// The umask is the test process's, inherited by the daemon it spawns.
TEST_CASE("under umask 077 the socket directory and socket still get their modes", "[lifecycle]") {
  TempDir dir("rngpool-umask");
  const auto socket = dir.path() / "run" / "rngpool.sock";
  const mode_t saved = umask(077);
  std::unique_ptr<TestDaemon> daemon;
  try {
    daemon = std::make_unique<TestDaemon>(DaemonConfig{.hwrng = HwrngFeed::none, .socket_path = socket.native()});
  } catch (...) {
    umask(saved);
    throw;
  }
  umask(saved);
  struct stat st {};
  REQUIRE(stat(socket.parent_path().c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0755);
  REQUIRE(stat(socket.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0666);
  TestConnection connection(socket.native());
  CHECK(ping(connection).header.status == Status::ok);
}

TEST_CASE("a socket directory writable by others is refused unless sticky", "[lifecycle]") {
  TempDir dir("rngpool-shared");
  const auto shared = dir.path() / "shared";
  REQUIRE(mkdir(shared.c_str(), 0700) == 0);
  REQUIRE(chmod(shared.c_str(), 0777) == 0);
  const auto socket = (shared / "rngpool.sock").native();
  auto refused = run_command("timeout 10 " + shell_quote(rngpoold_path()) + " --hwrng none --socket " +
                             shell_quote(socket));
  INFO(refused.err);
  CHECK(refused.exit_code == 2);
  CHECK_THAT(refused.err, Catch::Contains(shared.native()) && Catch::Contains("writable by group or others"));
  CHECK_FALSE(is_socket(socket));

  REQUIRE(chmod(shared.c_str(), 01777) == 0);
  TestDaemon daemon({.hwrng = HwrngFeed::none, .socket_path = socket});
  TestConnection connection(socket);
  CHECK(ping(connection).header.status == Status::ok);
}

TEST_CASE("a stale socket file is replaced", "[lifecycle]") {
  TempDir dir("rngpool-stale");
  auto path = (dir.path() / "rngpool.sock").native();
  make_stale_socket(path);
  REQUIRE(is_socket(path));
  REQUIRE_THROWS(TestConnection(path));  // nobody listens: stale

  TestDaemon daemon({.socket_path = path});
  TestConnection connection(path);
  CHECK(get_random(connection, 16).payload.size() == 16);
}

TEST_CASE("a second daemon on a live socket is refused", "[lifecycle]") {
  TestDaemon first;
  auto second = run_command("timeout 10 " + shell_quote(rngpoold_path()) + " --hwrng none --socket " +
                            shell_quote(first.socket_path()));
  INFO(second.err);
  CHECK(second.exit_code == 1);
  CHECK_THAT(second.err, Catch::Contains(first.socket_path()));
  // The first daemon keeps its socket and its clients.
  CHECK(is_socket(first.socket_path()));
  TestConnection connection(first.socket_path());
  CHECK(ping(connection).header.status == Status::ok);
}

TEST_CASE("socket activation through systemd-socket-activate", "[lifecycle][systemd]") {
  REQUIRE(run_command("command -v systemd-socket-activate").exit_code == 0);
  TempDir elsewhere("rngpool-ignored");
  auto ignored = (elsewhere.path() / "ignored.sock").native();
  // --socket is ignored when systemd hands over the listening socket.
  TestDaemon daemon({.args = {"--socket", ignored}, .socket_activated = true});
  TestConnection connection(daemon.socket_path());
  CHECK(get_random(connection, 64).payload.size() == 64);
  CHECK_FALSE(std::filesystem::exists(ignored));
  CHECK(nc_transcript(daemon.socket_path(), "PING\n").out == "PONG\n");
  CHECK(daemon.stop() == 0);
}

TEST_CASE("sd_notify: READY=1 after the first seed, STATUS=, WATCHDOG=1, STOPPING=1", "[lifecycle][systemd]") {
  TempDir dir("rngpool-notify");
  NotifySocket notify(dir.path() / "notify");
  // The watchdog interval is short so its ping shows up quickly.
  TestDaemon daemon({.env = {notify.environment(), "WATCHDOG_USEC=400000"}});

  auto ready = notify.wait_for("READY=1");
  INFO(daemon.log());
  REQUIRE(ready.has_value());
  // READY=1 promises a seeded pool: NONBLOCK must be served.
  TestConnection connection(daemon.socket_path());
  CHECK(get_random(connection, 32, protocol::flags::nonblock).header.status == Status::ok);

  auto status = notify.wait_for("STATUS=");
  REQUIRE(status.has_value());
  CHECK(status->size() > std::strlen("STATUS="));
  CHECK(notify.wait_for("WATCHDOG=1").has_value());

  CHECK(daemon.stop() == 0);
  CHECK(notify.wait_for("STOPPING=1", std::chrono::seconds{2}).has_value());
}

TEST_CASE("logs carry <N> priority prefixes only when stderr is the journal", "[lifecycle][systemd]") {
  TempDir dir("rngpool-journal");
  // JOURNAL_STREAM names stderr's device and inode, as systemd sets it; the
  // daemon runs until its socket exists, then stops.
  auto run = [&](bool journal) {
    std::string script = "cd " + shell_quote(dir.path().native()) + " || exit 1\n" +
                         "rm -f s.sock; : > log\n" +
                         (journal ? "export JOURNAL_STREAM=$(stat -c %d:%i log)\n" : "") +
                         shell_quote(rngpoold_path()) + " --hwrng none --socket s.sock 2>>log &\n" +
                         "pid=$!\n"
                         "for i in $(seq 100); do [ -S s.sock ] && break; sleep 0.1; done\n"
                         "kill -TERM $pid; wait $pid; echo status=$?; cat log\n";
    return run_command(script).out;
  };
  auto journal = run(true);
  INFO(journal);
  CHECK_THAT(journal, Catch::StartsWith("status=0\n<6>"));
  CHECK(std::regex_search(journal, std::regex("\n<6>[^\n]*listening")));
  auto plain = run(false);
  INFO(plain);
  CHECK_THAT(plain, Catch::StartsWith("status=0\n"));
  CHECK_THAT(plain, Catch::Contains("listening"));
  CHECK_THAT(plain, !Catch::Contains("<6>"));
}

TEST_CASE("SIGTERM lets an in-flight reply finish, then exits 0", "[lifecycle]") {
  TestDaemon daemon;
  TestConnection connection(daemon.socket_path());
  constexpr std::uint32_t kCount = 1024 * 1024;  // far more than a socket buffer holds
  connection.send(protocol::encode_get_random(7, kCount));
  auto header = connection.read_exact(protocol::kHeaderSize);  // the reply has started
  REQUIRE(kill(daemon.pid(), SIGTERM) == 0);
  CHECK(connection.read_exact(kCount).size() == kCount);
  CHECK(connection.wait_closed());
  CHECK(daemon.wait_exit(std::chrono::seconds{10}) == std::optional<int>{0});
}
