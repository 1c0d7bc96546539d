// Starting and stopping: the socket file, systemd activation and notification.
#include "rngpool/test/support.hpp"

#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

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
