// The EGD socket (PROTOCOL.md §13) against the real daemon: every command,
// pipelining, the root-only add, the policies the main socket has, and
// socket activation with two named sockets.
#include "egd_support.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <set>

using namespace rngpool;
using namespace rngpool::test;
using namespace std::chrono_literals;

namespace {

// A daemon with an EGD socket in a directory other users may enter, so a
// client of another uid can connect too.
struct EgdDaemon {
  explicit EgdDaemon(DaemonConfig config = {}) : daemon(with_egd(std::move(config), dir)) {}

  static DaemonConfig with_egd(DaemonConfig config, TempDir& dir) {
    ::chmod(dir.path().c_str(), 0755);
    config.egd_socket_path = (dir.path() / "egd.sock").native();
    return config;
  }
  std::string egd_path() const { return (dir.path() / "egd.sock").native(); }
  TestConnection egd() const { return TestConnection(egd_path()); }
  protocol::StatusReport status() const { return status_report(daemon.socket_path()); }
  std::uint64_t counter(std::string_view key) const { return status_number(status(), key); }

  TempDir dir{"rngpool-egd"};
  TestDaemon daemon;
};

}  // namespace

// ---------------------------------------------------------------------------
// The commands
// ---------------------------------------------------------------------------

TEST_CASE("EGD: every command over the socket", "[egd]") {
  EgdDaemon d;
  auto c = d.egd();

  c.send(Bytes{0x00});
  CHECK(u32(c.read_exact(4)) == 2040);  // seeded: a 0x01 of any size is filled at once

  c.send(Bytes{0x01, 0x10});
  CHECK(c.read_exact(1) == Bytes{0x10});
  const auto nonblocking = c.read_exact(16);

  c.send(Bytes{0x02, 0xff});
  const auto blocking = c.read_exact(255);
  CHECK(blocking != Bytes(255, blocking[0]));

  c.send(Bytes{0x04});
  CHECK(pid_reply(c) == std::to_string(d.daemon.pid()));

  c.send(Bytes{0x02, 0x00, 0x01, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00});  // nothing, 0 of 0, add nothing, level
  CHECK(c.read_exact(1) == Bytes{0x00});
  CHECK(u32(c.read_exact(4)) == 2040);

  const auto report = d.status();
  CHECK(status_number(report, "egd_connections_accepted") == 1);
  CHECK(status_number(report, "egd_requests") == 8);
  CHECK(status_number(report, "egd_bytes_served") == 16 + 255);
  CHECK(status_number(report, "egd_adds_accepted") + status_number(report, "egd_adds_refused") == 1);
  CHECK(status_number(report, "bytes_served") >= 16 + 255);  // the totals include the EGD socket
}

TEST_CASE("EGD: pipelined requests are answered in order", "[egd]") {
  EgdDaemon d;
  auto c = d.egd();
  Bytes batch;
  for (int i = 0; i < 200; ++i)
    batch.insert(batch.end(), {0x02, 32});
  batch.insert(batch.end(), {0x01, 200, 0x04, 0x00});
  c.send(batch);

  std::set<Bytes> blocks;
  for (int i = 0; i < 200; ++i)
    blocks.insert(c.read_exact(32));
  CHECK(blocks.size() == 200);  // 200 different 32-byte replies, none lost or repeated
  CHECK(c.read_exact(1) == Bytes{200});
  CHECK(c.read_exact(200).size() == 200);
  CHECK(pid_reply(c) == std::to_string(d.daemon.pid()));
  CHECK(u32(c.read_exact(4)) == 2040);
  CHECK(d.counter("egd_requests") == 203);
  CHECK(d.counter("egd_bytes_served") == 200 * 32 + 200);
}

TEST_CASE("EGD: pipelined replies larger than an output chunk arrive whole and in order", "[egd]") {
  EgdDaemon d({.hwrng = HwrngFeed::none});
  auto c = d.egd();
  Bytes batch;
  for (int i = 0; i < 600; ++i)  // 600 x (1 + 255) bytes of 0x01 and 600 x 255 of 0x02: several 64 KiB chunks
    batch.insert(batch.end(), {0x01, 0xff, 0x02, 0xff});
  batch.push_back(0x04);
  c.send(batch);
  for (int i = 0; i < 600; ++i) {
    REQUIRE(c.read_exact(1) == Bytes{0xff});
    REQUIRE(c.read_exact(255 + 255).size() == 510);
  }
  CHECK(pid_reply(c) == std::to_string(d.daemon.pid()));
  CHECK(d.counter("egd_bytes_served") == 600 * 510);
}

TEST_CASE("EGD: 0x02 before the first seed waits, 0x01 and 0x00 do not", "[egd]") {
  // The hwrng FIFO stays silent, held open so the daemon's open() returns,
  // and --require-hwrng holds every request until it speaks.
  TempDir fifo_dir("rngpool-egd-fifo");
  const auto fifo = (fifo_dir.path() / "hwrng").native();
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  Fd hwrng(::open(fifo.c_str(), O_RDWR | O_CLOEXEC));
  REQUIRE(hwrng.get() >= 0);
  EgdDaemon d({.hwrng = HwrngFeed::path, .hwrng_path = fifo, .args = {"--require-hwrng"}});
  auto c = d.egd();
  c.send(Bytes{0x00, 0x01, 0x20});
  CHECK(u32(c.read_exact(4)) == 0);
  CHECK(c.read_exact(1) == Bytes{0x00});

  c.send(Bytes{0x02, 0x20});
  c.set_timeout(300ms);
  CHECK_THROWS(c.read_exact(1));  // waiting for the hwrng
  const auto fill = FifoFeeder::random_bytes();
  Bytes block(4096);
  for (int i = 0; i < 16; ++i) {
    fill(block);
    REQUIRE(::write(hwrng.get(), block.data(), block.size()) == static_cast<ssize_t>(block.size()));
  }
  c.set_timeout(10s);
  CHECK(c.read_exact(32).size() == 32);
  c.send(Bytes{0x00});
  CHECK(u32(c.read_exact(4)) == 2040);
}

// The wait is bounded (PROTOCOL.md §5.1: 10 s, or the idle timeout when that
// is shorter) and ends in a close, counted under its cause; the metrics count
// it under the status the main socket would answer with.
TEST_CASE("EGD: 0x02 never seeded closes after the bounded wait, counted as not ready", "[egd][metrics]") {
  EgdDaemon d({.hwrng = HwrngFeed::none,
               .args = {"--idle-timeout", "1"},
               .env = preload_env(RNGPOOL_UNSEEDED_PRELOAD)});
  REQUIRE(status_value(d.status(), "state") == "starting");
  auto c = d.egd();
  c.send(Bytes{0x00, 0x01, 0x20});
  CHECK(u32(c.read_exact(4)) == 0);
  CHECK(c.read_exact(1) == Bytes{0x00});
  c.send(Bytes{0x02, 0x20});
  c.set_timeout(300ms);
  CHECK_THROWS(c.read_exact(1));  // waiting for the first seed
  c.set_timeout(10s);
  CHECK(c.read_until_eof().empty());  // then closed, no byte sent
  const auto report = d.status();
  CHECK(status_number(report, "egd_closed_not_ready") == 1);
  CHECK(status_number(report, "egd_closed_hwrng_unavailable") == 0);
  CHECK(status_number(report, "egd_bytes_served") == 0);
  CHECK(status_value(report, "state") == "starting");  // still unseeded: the close was the wait's end
  const std::string metrics = nc_transcript(d.daemon.socket_path(), "METRICS\n").out;
  CHECK_THAT(metrics, Catch::Contains("\nrngpool_egd_connections_closed_total{reason=\"not_ready\"} 1\n"));
  CHECK_THAT(metrics, Catch::Contains("\nrngpool_requests_total{frontend=\"egd\",status=\"NOT_READY\"} 1\n"));
}

TEST_CASE("EGD: 0x02 under --require-hwrng closes after the bounded wait for a silent hwrng", "[egd][metrics]") {
  TempDir fifo_dir("rngpool-egd-fifo");
  const auto fifo = (fifo_dir.path() / "hwrng").native();
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  Fd hwrng(::open(fifo.c_str(), O_RDWR | O_CLOEXEC));  // held open, never written: start-up test never ends
  REQUIRE(hwrng.get() >= 0);
  EgdDaemon d({.hwrng = HwrngFeed::path, .hwrng_path = fifo, .args = {"--require-hwrng", "--idle-timeout", "1"}});
  auto c = d.egd();
  c.send(Bytes{0x02, 0x20});
  c.set_timeout(300ms);
  CHECK_THROWS(c.read_exact(1));
  c.set_timeout(10s);
  CHECK(c.read_until_eof().empty());
  // Seeded, but the hwrng is not in the key: the main socket would answer
  // HWRNG_UNAVAILABLE (PROTOCOL.md §5.1), and so it is counted.
  const auto report = d.status();
  CHECK(status_number(report, "egd_closed_hwrng_unavailable") == 1);
  CHECK(status_number(report, "egd_closed_not_ready") == 0);
  const std::string metrics = nc_transcript(d.daemon.socket_path(), "METRICS\n").out;
  CHECK_THAT(metrics,
             Catch::Contains("\nrngpool_requests_total{frontend=\"egd\",status=\"HWRNG_UNAVAILABLE\"} 1\n"));
}

// ---------------------------------------------------------------------------
// Add entropy (0x03)
// ---------------------------------------------------------------------------

TEST_CASE("EGD: root's add is auxiliary input, never hwrng", "[egd]") {
  REQUIRE(::geteuid() == 0);  // the tests run as root (scripts/test)
  EgdDaemon d({.hwrng = HwrngFeed::none, .args = {"--reseed-interval", "1"}});
  auto c = d.egd();
  c.send(Bytes{0x03, 0x08, 0x00, 0x05, 'h', 'e', 'l', 'l', 'o', 0x00});  // claims 2048 bits
  CHECK(u32(c.read_exact(4)) == 2040);  // no reply to the add, and the connection goes on
  CHECK(d.counter("egd_adds_accepted") == 1);
  CHECK(d.counter("egd_bytes_added") == 5);
  REQUIRE(eventually([&] { return d.counter("auxiliary_bytes_mixed") == 5; }, 10s));
  const auto report = d.status();
  CHECK(status_value(report, "hwrng_in_key") == "no");
  CHECK(status_number(report, "reseeds_with_hwrng") == 0);
  CHECK(status_number(report, "hwrng_bytes_used") == 0);
}

TEST_CASE("EGD: an add does not satisfy --require-hwrng", "[egd]") {
  EgdDaemon d({.hwrng = HwrngFeed::none, .args = {"--require-hwrng"}});
  auto c = d.egd();
  Bytes add = {0x03, 0xff, 0xff, 0xff};
  add.insert(add.end(), 255, 0x5a);
  c.send(add);
  c.send(Bytes{0x00});
  CHECK(u32(c.read_exact(4)) == 0);
  c.send(Bytes{0x02, 0x10});  // refused: closed, no bytes
  CHECK(c.wait_closed());
  CHECK(d.counter("egd_closed_hwrng_unavailable") == 1);
  auto again = d.egd();
  again.send(Bytes{0x01, 0x10});
  CHECK(again.wait_closed());
  CHECK(d.counter("egd_closed_hwrng_unavailable") == 2);
  CHECK(d.counter("egd_bytes_served") == 0);
}

TEST_CASE("EGD: a client that is not root has its add dropped and counted", "[egd]") {
  REQUIRE(::geteuid() == 0);  // to be another uid through setpriv
  EgdDaemon d({.hwrng = HwrngFeed::none});
  const auto other = other_user();
  // The add, then 0x00: the connection stays and answers.
  auto result = egd_as(other.id, d.egd_path(), "\\003\\000\\010\\003abc\\000");
  INFO(result.err);
  CHECK(result.out == "000007f8");
  CHECK(d.counter("egd_adds_refused") == 1);
  CHECK(d.counter("egd_adds_accepted") == 0);
  CHECK(d.counter("egd_bytes_added") == 0);
  d.daemon.stop();
  CHECK_THAT(d.daemon.log(), !Catch::Contains("internal error"));
}

// ---------------------------------------------------------------------------
// Bad input and policies
// ---------------------------------------------------------------------------

TEST_CASE("EGD: an unknown command byte closes that connection only, counted", "[egd]") {
  EgdDaemon d;
  auto bystander = d.egd();
  auto bad = d.egd();
  bad.send(Bytes{0x00, 0x05, 0x00});
  CHECK(u32(bad.read_exact(4)) == 2040);  // the request before it is answered
  CHECK(bad.wait_closed());
  CHECK(d.counter("egd_closed_bad_command") == 1);
  bystander.send(Bytes{0x02, 0x08});
  CHECK(bystander.read_exact(8).size() == 8);
  TestConnection main(d.daemon.socket_path());
  CHECK(ping(main).header.status == protocol::Status::ok);
}

TEST_CASE("EGD: --allow-user leaves a client out: closed at its first request, counted", "[egd][access]") {
  REQUIRE(::geteuid() == 0);  // to be another uid through setpriv
  EgdDaemon d({.hwrng = HwrngFeed::none, .args = {"--allow-user", own_user().name}});
  auto result = egd_as(other_user().id, d.egd_path(), "\\000");
  CHECK(result.out.empty());
  CHECK(d.counter("egd_closed_permission") == 1);
  auto allowed = d.egd();
  allowed.send(Bytes{0x00});
  CHECK(u32(allowed.read_exact(4)) == 2040);
}

TEST_CASE("EGD: the idle timeout closes a silent client and a half-sent request", "[egd]") {
  EgdDaemon d({.hwrng = HwrngFeed::none, .args = {"--idle-timeout", "0.3"}});
  auto silent = d.egd();
  auto partial = d.egd();
  partial.send(Bytes{0x03, 0x00, 0x00, 0x10, 'x'});
  CHECK(silent.wait_closed());
  CHECK(partial.wait_closed());
}

TEST_CASE("EGD: --max-connections counts both sockets, and an EGD client over it is closed without a byte",
          "[egd][limits]") {
  EgdDaemon d({.hwrng = HwrngFeed::none, .args = {"--max-connections", "2"}});
  TestConnection main(d.daemon.socket_path());
  CHECK(ping(main).header.status == protocol::Status::ok);
  auto first = d.egd();
  first.send(Bytes{0x00});
  CHECK(u32(first.read_exact(4)) == 2040);
  auto over = d.egd();
  CHECK(over.read_until_eof().empty());  // no binary BUSY frame to mistake for random bytes
  CHECK(status_number(status_report(main), "egd_connections_refused") == 1);
}

// The per-uid limit (issue 9 §5) on the EGD socket: another uid holding its
// slots -- one on each socket: they count together -- has its next EGD
// connection closed without a byte, and root is still served.
TEST_CASE("EGD: --max-connections-per-uid counts both sockets and closes an EGD client over it, counted",
          "[egd][limits]") {
  REQUIRE(::geteuid() == 0);  // to be another uid through setpriv
  TempDir shared("rngpool-egd-uid");
  REQUIRE(::chmod(shared.path().c_str(), 0755) == 0);
  const std::string main_path = (shared.path() / "rngpool.sock").native();
  EgdDaemon d({.hwrng = HwrngFeed::none, .args = {"--max-connections-per-uid", "2"}, .socket_path = main_path});
  // As the other uid: PING on the main socket and 0x00 on the EGD socket,
  // both held, then a third connection (EGD), which must see EOF at once.
  const std::string client = R"(
import socket, sys
def open_to(path, request, size):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    if request:
        s.sendall(request)
    got = b""
    while len(got) < size:
        chunk = s.recv(size - len(got))
        if not chunk:
            break
        got += chunk
    return s, got
main, ping = open_to(sys.argv[1], b"PING\n", 5)
egd, level = open_to(sys.argv[2], b"\x00", 4)
over, nothing = open_to(sys.argv[2], b"", 1)  # sends nothing: a send could meet the close
print(ping.decode(), level.hex(), repr(nothing))
)";
  std::string wrapper;
  for (const auto& word : as_uid(other_user().id))
    wrapper += shell_quote(word) + " ";
  // Debian's python3 by its path: another uid may not reach a python3 earlier
  // in root's PATH (a pyenv shim under /root).
  const CommandResult result = run_command("timeout 20 " + wrapper + "/usr/bin/python3 -c " + shell_quote(client) +
                                           " " + shell_quote(main_path) + " " + shell_quote(d.egd_path()));
  INFO(result.err << d.daemon.log());
  CHECK(result.exit_code == 0);
  CHECK(result.out == "PONG\n 000007f8 b''\n");
  const auto report = status_report(main_path);
  CHECK(status_number(report, "egd_connections_refused") == 1);
  CHECK(status_number(report, "egd_connections_accepted") == 1);
  CHECK(status_number(report, "connections_refused") == 1);
  auto root = d.egd();
  root.send(Bytes{0x02, 0x10});
  CHECK(root.read_exact(16).size() == 16);
  const std::string metrics = nc_transcript(main_path, "METRICS\n").out;
  CHECK_THAT(metrics, Catch::Contains("\nrngpool_connections_refused_total{reason=\"max_connections_per_uid\"} 1\n"));
  CHECK_THAT(metrics, Catch::Contains("\nrngpool_egd_connections_refused_total 1\n"));
}

// ---------------------------------------------------------------------------
// Start-up
// ---------------------------------------------------------------------------

TEST_CASE("EGD: socket activation with two named sockets", "[egd][systemd]") {
  REQUIRE(run_command("command -v systemd-socket-activate").exit_code == 0);
  TempDir elsewhere("rngpool-ignored");
  const auto ignored = (elsewhere.path() / "ignored.sock").native();
  EgdDaemon d({.args = {"--socket", ignored}, .socket_activated = true});
  TestConnection main(d.daemon.socket_path());
  CHECK(get_random(main, 16).payload.size() == 16);
  auto c = d.egd();
  c.send(Bytes{0x02, 0x40, 0x04});
  CHECK(c.read_exact(64).size() == 64);
  CHECK(pid_reply(c) == std::to_string(d.daemon.pid()));
  CHECK_FALSE(std::filesystem::exists(ignored));
  CHECK(d.daemon.stop() == 0);
  CHECK_THAT(d.daemon.log(), Catch::Contains("EGD on the socket systemd passed in"));
}

TEST_CASE("EGD: systemd passing only the 'egd' socket, or two, stops the daemon naming why", "[egd][systemd]") {
  REQUIRE(run_command("command -v systemd-socket-activate").exit_code == 0);
  TempDir dir("rngpool-egd-activate");
  const auto a = (dir.path() / "a.sock").native();
  const auto b = (dir.path() / "b.sock").native();
  auto start = [&](const std::string& listen, const std::string& names) {
    return run_command("cd " + shell_quote(dir.path().native()) + " && (timeout 10 systemd-socket-activate " + listen +
                       " --fdname=" + names + " " + shell_quote(rngpoold_path()) +
                       " --hwrng none --config /dev/null 2>err & sleep 0.3; printf '\\000' | socat -t 1 - UNIX-CONNECT:" +
                       shell_quote(a) + " >/dev/null 2>&1; wait; cat err)");
  };
  CHECK_THAT(start("--listen=" + a, "egd").out, Catch::Contains("passed no main socket (rngpoold.socket)"));
  CHECK_THAT(start("--listen=" + a + " --listen=" + b, "egd:egd").out, Catch::Contains("two EGD sockets"));
}

TEST_CASE("EGD: --egd-socket takes a path or none, not --socket's", "[egd][options]") {
  TempDir dir("rngpool-egd-options");
  const auto sock = (dir.path() / "s.sock").native();
  auto run = [&](const std::string& egd) {
    return run_command("timeout 10 " + shell_quote(rngpoold_path()) + " --config /dev/null --hwrng none --socket " +
                       shell_quote(sock) + " --egd-socket " + shell_quote(egd));
  };
  auto same = run(sock);
  CHECK(same.exit_code == 2);
  CHECK_THAT(same.err, Catch::Contains("--egd-socket must be a path other than --socket's"));
  auto too_long = run(std::string(200, 'x'));
  CHECK(too_long.exit_code == 2);
  CHECK_THAT(too_long.err, Catch::Contains("--egd-socket must be a path of 1 to 107 bytes"));
}
