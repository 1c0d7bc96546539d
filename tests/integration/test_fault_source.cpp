// hwrng fault injection, source side (issue 5 §3): a slow source, end of
// file, read errors and a missing path.  Whatever the source does, the socket
// keeps serving from getrandom(2), and STATUS and HEALTH say what happened.
#include "robustness_support.hpp"

#include <catch2/catch.hpp>

#include <future>
#include <thread>

using namespace rngpool;
using namespace rngpool::test;
using namespace rngpool::test::robustness;
using namespace std::chrono_literals;
using protocol::Status;

namespace {

constexpr auto kRequireNow =
    static_cast<std::uint16_t>(protocol::flags::require_hwrng | protocol::flags::nonblock);

protocol::StatusReport report_when_hwrng(const TestDaemon& daemon, const std::string& state) {
  auto report = status_when(daemon.socket_path(), [&](const protocol::StatusReport& r) {
    return status_value(r, "hwrng_state") == state;
  });
  INFO(protocol::format_status_report(report) << daemon.log());
  REQUIRE(status_value(report, "hwrng_state") == state);
  return report;
}

// The source delivers nothing: without --require-hwrng the daemon serves
// from getrandom(2) alone and says DEGRADED; with it, it refuses GET_RANDOM
// (and only GET_RANDOM) and says FAILED.  Both name the hwrng's state and,
// when there is one, the errno that keeps it from delivering (`error`, as
// STATUS hwrng_read_error shows it), which absent and unreadable are
// retried for.
void check_source_lost(const DaemonConfig& config, const std::string& hwrng_state, const std::string& error = "none") {
  const std::string hwrng = "hwrng " + hwrng_state + (error == "none" ? "" : ": " + error + " (retried every 30 s)");
  SECTION("without --require-hwrng: degraded, serving") {
    TestDaemon daemon(config);
    auto report = report_when_hwrng(daemon, hwrng_state);
    INFO(protocol::format_status_report(report) << daemon.log());
    CHECK(status_value(report, "state") == "degraded");
    CHECK(status_value(report, "hwrng_read_error") == error);
    CHECK(health(daemon.socket_path()) == "DEGRADED " + hwrng + "; serving from getrandom(2) alone");
    TestConnection connection(daemon.socket_path());
    auto reply = get_random(connection, 65536);
    CHECK(reply.header.status == Status::ok);
    CHECK(reply.payload.size() == 65536);
    CHECK(get_random(connection, 32, protocol::flags::require_hwrng).header.status == Status::hwrng_unavailable);
    CHECK(get_random(connection, 32).payload.size() == 32);  // the refusal was not fatal
  }
  SECTION("with --require-hwrng: HWRNG_UNAVAILABLE") {
    auto strict = config;
    strict.args.push_back("--require-hwrng");
    TestDaemon daemon(strict);
    auto report = report_when_hwrng(daemon, hwrng_state);
    INFO(protocol::format_status_report(report) << daemon.log());
    CHECK(status_value(report, "state") == "failed");
    CHECK(health(daemon.socket_path()) == "FAILED " + hwrng + "; --require-hwrng is set: GET_RANDOM refused");
    TestConnection connection(daemon.socket_path());
    auto reply = get_random(connection, 32);
    CHECK(reply.header.status == Status::hwrng_unavailable);
    CHECK(ping(connection).header.status == Status::ok);
  }
}

}  // namespace

TEST_CASE("a 1 byte/s source: start-up pending, the socket served from getrandom(2)", "[fault][hwrng]") {
  TempDir dir("rngpool-slow");
  FifoFeeder slow(dir.path() / "hwrng", FifoFeeder::random_bytes(), 1000ms, 1);
  TestDaemon daemon(reading_hwrng(slow.path()));

  // A client that insists on the hwrng waits (bounded by its idle timeout)
  // on its own connection; that must hold up nobody else.
  TestConnection insisting(daemon.socket_path());
  insisting.send(protocol::encode_get_random(9, 32, protocol::flags::require_hwrng));

  TestConnection connection(daemon.socket_path());
  for (std::uint32_t size : {1u, 32u, 4096u, 1u << 20}) {
    auto reply = get_random(connection, size);
    CHECK(reply.header.status == Status::ok);
    CHECK(reply.payload.size() == size);
  }
  CHECK(get_random(connection, 32, kRequireNow).header.status == Status::hwrng_unavailable);

  // The reader takes each byte as it comes (it is not stuck behind a full
  // block), and start-up is still far off.
  auto before = status_report(daemon.socket_path());
  auto report = status_when(daemon.socket_path(), [&](const protocol::StatusReport& r) {
    return status_number(r, "hwrng_bytes_tested") > status_number(before, "hwrng_bytes_tested");
  });
  INFO(protocol::format_status_report(report) << daemon.log());
  CHECK(status_number(report, "hwrng_bytes_tested") > status_number(before, "hwrng_bytes_tested"));
  CHECK(status_value(report, "hwrng_state") == "startup");
  CHECK(status_number(report, "hwrng_bytes_used") == 0);
  // The daemon documents start-up as no fault: state ready, HEALTH OK.
  CHECK(status_value(report, "state") == "ready");
  CHECK(health(daemon.socket_path()) == "OK");
}

TEST_CASE("a slow source completes start-up later, and REQUIRE_HWRNG waits for it", "[fault][hwrng]") {
  // 320 bytes/s: the 1024-byte start-up test takes about 3 s.
  TempDir dir("rngpool-slow");
  FifoFeeder slow(dir.path() / "hwrng", FifoFeeder::random_bytes(), 100ms, 32);
  TestDaemon daemon(reading_hwrng(slow.path()));

  TestConnection insisting(daemon.socket_path());
  insisting.send(protocol::encode_get_random(9, 32, protocol::flags::require_hwrng));

  TestConnection connection(daemon.socket_path());
  auto early = status_report(connection);
  INFO(protocol::format_status_report(early) << daemon.log());
  CHECK(status_value(early, "hwrng_state") == "startup");
  CHECK(get_random(connection, 100'000).payload.size() == 100'000);

  auto report = status_when(
      daemon.socket_path(), [](const protocol::StatusReport& r) { return status_value(r, "hwrng_in_key") == "yes"; },
      20s);
  INFO(protocol::format_status_report(report) << daemon.log());
  REQUIRE(status_value(report, "hwrng_in_key") == "yes");
  CHECK(status_value(report, "hwrng_state") == "ok");
  CHECK(status_number(report, "hwrng_bytes_used") > 0);
  CHECK(status_number(report, "hwrng_bytes_used") <= status_number(report, "hwrng_bytes_tested") - 1024);

  auto served = insisting.read_reply();
  CHECK(served.header.status == Status::ok);
  CHECK(served.header.request_id == 9);
  CHECK(served.payload.size() == 32);
}

// PROTOCOL.md §5.1: a wait for the hwrng lasts at most 10 s, whatever the
// idle timeout (60 s here), so a client with a 30 s reply timeout hears the
// refusal instead of reporting a dead daemon.
TEST_CASE("REQUIRE_HWRNG waits at most 10 s for a start-up that does not come", "[fault][hwrng]") {
  TempDir dir("rngpool-silent");
  FifoFeeder silent(dir.path() / "hwrng", FifoFeeder::random_bytes(), std::chrono::hours(1));
  TestDaemon daemon(reading_hwrng(silent.path()));
  const std::string cli = rngpool_cli_path();
  REQUIRE_FALSE(cli.empty());
  auto from_cli = std::async(std::launch::async, [&] {
    return run_command(shell_quote(cli) + " --socket " + shell_quote(daemon.socket_path()) + " --require-hwrng hex 8");
  });

  TestConnection insisting(daemon.socket_path(), 30s);
  const auto start = std::chrono::steady_clock::now();
  auto reply = get_random(insisting, 32, protocol::flags::require_hwrng);
  const auto waited = std::chrono::steady_clock::now() - start;
  INFO(reply.payload_text() << "\n" << daemon.log());
  CHECK(reply.header.status == Status::hwrng_unavailable);
  CHECK_THAT(reply.payload_text(), Catch::Contains("startup"));
  CHECK(waited >= 9s);
  CHECK(waited < 20s);
  CHECK(ping(insisting).header.status == Status::ok);  // refused, not closed

  auto result = from_cli.get();
  INFO("rngpool: exit " << result.exit_code << ", stderr: " << result.err);
  CHECK(result.exit_code == 1);
  CHECK_THAT(result.err, Catch::Contains("HWRNG_UNAVAILABLE"));
}

TEST_CASE("end of file: the hwrng is exhausted", "[fault][hwrng]") {
  TempDir dir("rngpool-eof");
  auto path = dir.path() / "hwrng";
  SECTION("a file of 4 KiB") {
    write_file(path, runless_random(4096));
    check_source_lost(reading_hwrng(path), "exhausted");
  }
  SECTION("an empty file") {
    write_file(path, {});
    check_source_lost(reading_hwrng(path), "exhausted");
  }
}

TEST_CASE("end of file on a FIFO whose writer goes away", "[fault][hwrng]") {
  TempDir dir("rngpool-eof");
  auto feeder = std::make_unique<FifoFeeder>(dir.path() / "hwrng", FifoFeeder::random_bytes());
  TestDaemon daemon(reading_hwrng(feeder->path()));
  auto running = status_when(daemon.socket_path(), [](const protocol::StatusReport& r) {
    return status_number(r, "hwrng_bytes_used") > 0;
  });
  INFO(protocol::format_status_report(running) << daemon.log());
  REQUIRE(status_number(running, "hwrng_bytes_used") > 0);
  feeder.reset();
  auto report = report_when_hwrng(daemon, "exhausted");
  CHECK(status_value(report, "state") == "degraded");
  TestConnection connection(daemon.socket_path());
  CHECK(get_random(connection, 1000).payload.size() == 1000);
  CHECK_THAT(daemon.log(), Catch::Contains("end of file"));
}

// A directory opens, and every read fails: it exists, so it is unreadable,
// not absent (issue 10 §1).
TEST_CASE("a read error: a directory as --hwrng (EISDIR) is unreadable", "[fault][hwrng]") {
  TempDir dir("rngpool-eisdir");
  check_source_lost(reading_hwrng(dir.path()), "unreadable", "Is a directory");
}

TEST_CASE("the hwrng path does not exist at start", "[fault][hwrng]") {
  TempDir dir("rngpool-absent");
  check_source_lost(reading_hwrng(dir.path() / "deleted"), "absent", "No such file or directory");
}

TEST_CASE("a source failing every read with EIO is not reported healthy", "[fault][hwrng]") {
  // /proc/self/mem at offset 0 is the daemon's own unmapped page zero: every
  // read(2) fails with EIO, the error a hw_random driver returns when the
  // device misbehaves.  The daemon retries (EIO can be transient), but while
  // the source produces nothing it must not claim to be healthy.
  TestDaemon daemon(reading_hwrng("/proc/self/mem"));
  TestConnection connection(daemon.socket_path());
  CHECK(get_random(connection, 4096).payload.size() == 4096);
  REQUIRE(eventually([&] { return daemon.log().find("Input/output error") != std::string::npos; }));
  std::this_thread::sleep_for(3s);  // several back-off rounds
  auto report = status_report(connection);
  INFO(protocol::format_status_report(report) << daemon.log());
  CHECK(status_number(report, "hwrng_bytes_tested") == 0);
  CHECK(status_value(report, "state") == "degraded");
  CHECK(status_value(report, "hwrng_read_error") != "none");
  CHECK_THAT(health(daemon.socket_path()), Catch::StartsWith("DEGRADED hwrng read errors"));
  CHECK(get_random(connection, 4096).payload.size() == 4096);
  CHECK(get_random(connection, 32, kRequireNow).header.status == Status::hwrng_unavailable);
  // One warning per streak of failures, not one per retry: a dead device
  // must not fill the journal.
  const auto log = daemon.log();
  std::size_t warnings = 0;
  for (auto at = log.find("read failed"); at != std::string::npos; at = log.find("read failed", at + 1)) ++warnings;
  CHECK(warnings == 1);
}
