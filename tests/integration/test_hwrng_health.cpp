// A stuck hwrng (a FIFO fed one constant byte) trips the repetition count
// test; what the daemon then serves depends on --require-hwrng.
#include "rngpool/test/support.hpp"

#include <catch2/catch.hpp>

using namespace rngpool;
using namespace rngpool::test;
using protocol::Status;

namespace {

struct StuckHwrng {
  TempDir dir{"rngpool-stuck"};
  FifoFeeder feeder{dir.path() / "hwrng", FifoFeeder::constant_byte(0x5a)};
};

// Waits until STATUS counts an RCT failure; returns the last report.
protocol::StatusReport wait_for_rct_failure(const TestDaemon& daemon) {
  protocol::StatusReport report;
  bool failed = eventually([&] {
    report = status_report(daemon.socket_path());
    return status_number(report, "rct_failures") > 0;
  });
  INFO(protocol::format_status_report(report) << daemon.log());
  REQUIRE(failed);
  return report;
}

std::string health(const TestDaemon& daemon) { return nc_transcript(daemon.socket_path(), "HEALTH\n").out; }

}  // namespace

TEST_CASE("a stuck source under --require-hwrng refuses GET_RANDOM", "[hwrng]") {
  StuckHwrng stuck;
  TestDaemon daemon({.hwrng = HwrngFeed::path, .hwrng_path = stuck.feeder.path(), .args = {"--require-hwrng"}});
  auto report = wait_for_rct_failure(daemon);
  CHECK(status_number(report, "hwrng_bytes_used") == 0);
  CHECK_THAT(status_value(report, "hwrng_state"), Catch::StartsWith("failed"));
  CHECK(status_value(report, "state") != "ready");

  TestConnection connection(daemon.socket_path());
  auto reply = get_random(connection, 32, 0, 3);
  CHECK(reply.header.status == Status::hwrng_unavailable);
  CHECK(reply.header.request_id == 3);
  CHECK(ping(connection).header.status == Status::ok);  // not fatal

  CHECK_THAT(health(daemon), Catch::StartsWith("FAILED ") || Catch::StartsWith("DEGRADED "));
  CHECK_THAT(nc_transcript(daemon.socket_path(), "HEX 8\n").out, Catch::StartsWith("ERR HWRNG_UNAVAILABLE "));
}

TEST_CASE("without --require-hwrng a stuck source degrades but keeps serving", "[hwrng]") {
  StuckHwrng stuck;
  TestDaemon daemon({.hwrng = HwrngFeed::path, .hwrng_path = stuck.feeder.path()});
  auto report = wait_for_rct_failure(daemon);
  CHECK(status_number(report, "hwrng_bytes_used") == 0);

  TestConnection connection(daemon.socket_path());
  CHECK(get_random(connection, 32).payload.size() == 32);
  // The REQUIRE_HWRNG flag asks for the hwrng per request.
  CHECK(get_random(connection, 32, protocol::flags::require_hwrng).header.status == Status::hwrng_unavailable);
  CHECK_THAT(health(daemon), Catch::StartsWith("DEGRADED "));
}

TEST_CASE("REQUIRE_HWRNG is served once a healthy hwrng is in the key", "[hwrng]") {
  TestDaemon daemon({.args = {"--require-hwrng"}});
  TestConnection connection(daemon.socket_path());
  // Prediction resistance reseeds, so the key takes in the tested hwrng bytes.
  auto flags = static_cast<std::uint16_t>(protocol::flags::require_hwrng | protocol::flags::prediction_resistance);
  Reply reply;
  bool served = eventually([&] { return (reply = get_random(connection, 32, flags)).header.status == Status::ok; });
  INFO(reply.payload_text() << daemon.log());
  CHECK(served);
  CHECK(reply.payload.size() == 32);
}

TEST_CASE("no hwrng under --require-hwrng refuses GET_RANDOM", "[hwrng]") {
  TestDaemon daemon({.hwrng = HwrngFeed::none, .args = {"--require-hwrng"}});
  TestConnection connection(daemon.socket_path());
  CHECK(get_random(connection, 32).header.status == Status::hwrng_unavailable);
}
