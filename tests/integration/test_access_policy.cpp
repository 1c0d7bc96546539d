// --allow-user and --allow-group against the real daemon, the client library
// and the CLI (PROTOCOL.md §6.1).
//
// The test never changes identity (it must pass without root), so "a client
// the lists leave out" is always this process against a daemon that lists
// someone else: another user, or a group this process is not in, found at
// run time (accounts.hpp).  Such a client cannot read STATUS, so the
// refusals are counted from the totals the daemon logs when it stops.
#include "rngpool/protocol/text.hpp"
#include "rngpool/rngpool.hpp"
#include "rngpool/test/support.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <functional>
#include <regex>
#include <stdexcept>

using namespace rngpool;
using namespace rngpool::test;
using protocol::Opcode;
using protocol::Status;

namespace {

// A daemon started with `option value` and no hwrng (none is needed).
TestDaemon allowing(const std::string& option, const std::string& value) {
  return TestDaemon({.hwrng = HwrngFeed::none, .args = {option, value}});
}

std::string denial() { return "uid " + std::to_string(::geteuid()) + " is not in --allow-user/--allow-group"; }

void check_denied(const Reply& reply, Opcode opcode, std::uint32_t id) {
  CHECK(reply.header.status == Status::permission_denied);
  CHECK(reply.header.opcode == (static_cast<std::uint8_t>(opcode) | protocol::kReplyBit));
  CHECK(reply.header.request_id == id);
  CHECK(reply.payload_text() == denial());
}

void check_ok(const Reply& reply, std::uint32_t id) {
  CHECK(reply.header.status == Status::ok);
  CHECK(reply.header.request_id == id);
}

Reply status_request(TestConnection& connection, std::uint32_t id) {
  return connection.request(protocol::encode_request(Opcode::status, id));
}

// A client allowed in gets everything, and nothing is counted as refused.
void check_served(const std::string& socket) {
  TestConnection connection(socket);
  auto bytes = get_random(connection, 32, 0, 1);
  check_ok(bytes, 1);
  CHECK(bytes.payload.size() == 32);
  CHECK(status_number(status_report(connection), "requests_refused") == 0);
  auto text = nc_transcript(socket, "HEX 8\nHEALTH\n");
  CHECK(std::regex_match(text.out, std::regex("[0-9a-f]{16}\n(OK|DEGRADED .*)\n")));
}

// A client left out: every binary request but PING refused, one at a time
// and pipelined (where GET_RANDOM and PING would be answered at once), on a
// connection that stays open.  Returns how many were refused.
int check_binary_refused(const std::string& socket) {
  TestConnection connection(socket);
  check_denied(get_random(connection, 32, 0, 1), Opcode::get_random, 1);
  // Before TOO_LARGE and NOT_READY: a refused client learns nothing else.
  check_denied(get_random(connection, 256u << 20, protocol::flags::nonblock, 2), Opcode::get_random, 2);
  check_denied(status_request(connection, 3), Opcode::status, 3);
  check_ok(ping(connection, 4), 4);

  std::vector<std::uint8_t> batch;
  for (const auto& frame : {protocol::encode_get_random(5, 16), protocol::encode_request(Opcode::ping, 6),
                            protocol::encode_request(Opcode::status, 7), protocol::encode_request(Opcode::ping, 8)})
    batch.insert(batch.end(), frame.begin(), frame.end());
  connection.send(batch);
  check_denied(connection.read_reply(), Opcode::get_random, 5);
  check_ok(connection.read_reply(), 6);
  check_denied(connection.read_reply(), Opcode::status, 7);
  check_ok(connection.read_reply(), 8);

  check_denied(get_random(connection, 8, 0, 9), Opcode::get_random, 9);
  return 6;
}

// The same in text mode: PING, HELP and QUIT answer, the rest is an ERR line.
int check_text_refused(const std::string& socket) {
  const std::string err = "ERR PERMISSION_DENIED " + denial() + "\n";
  auto text = nc_transcript(socket, "PING\nHEX 8\nBASE64 4\nSTATUS\nHEALTH\nHELP\nPING\nQUIT\n");
  INFO("nc stderr: " << text.err);
  CHECK(text.exit_code == 0);
  CHECK(text.out == "PONG\n" + err + err + err + err + std::string(protocol::text_help()) + "PONG\n");
  return 4;
}

// Both modes refused, every refusal counted.
void check_refused(TestDaemon& daemon) {
  const int refused = check_binary_refused(daemon.socket_path()) + check_text_refused(daemon.socket_path());
  REQUIRE(daemon.stop() == 0);
  INFO(daemon.log());
  CHECK_THAT(daemon.log(), Catch::Contains("stopped (requests: 0 served, " + std::to_string(refused) + " refused)"));
}

// What `request` throws; fails the test when it throws nothing.
Error error_from(const std::function<void()>& request) {
  try {
    request();
  } catch (const Error& error) {
    return error;
  }
  FAIL("the request succeeded for a client the lists leave out");
  throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("a daemon serves whom --allow-user or --allow-group lists and refuses the rest all but PING",
          "[access]") {
  struct Case {
    const char* option;
    Account listed;
    bool serves_us;
  };
  const Case cases[] = {
      {"--allow-user", own_user(), true},
      {"--allow-user", other_user(), false},
      {"--allow-group", own_group(), true},    // our primary group
      {"--allow-group", foreign_group(), false},
  };
  for (const auto& c : cases) {
    INFO(c.option << " " << c.listed.name << " (id " << c.listed.id << ")");
    TestDaemon daemon = allowing(c.option, c.listed.name);
    if (c.serves_us)
      check_served(daemon.socket_path());
    else
      check_refused(daemon);
  }
}

TEST_CASE("librngpool throws PERMISSION_DENIED and the CLI exits 1 naming it", "[access][client]") {
  TestDaemon daemon = allowing("--allow-user", other_user().name);
  const Client client(daemon.socket_path());
  const Error error = error_from([&] { client.token_bytes(8); });
  CHECK(error.kind() == ErrorKind::daemon);
  CHECK(error.status_name() == "PERMISSION_DENIED");
  CHECK_THAT(error.what(), Catch::Contains(denial()));
  CHECK_NOTHROW(client.ping());

  const std::string cli = shell_quote(rngpool_cli_path()) + " --socket " + shell_quote(daemon.socket_path());
  for (const char* command : {" hex 8", " status", " health"}) {
    auto refused = run_command("timeout 20 " + cli + command);
    INFO("rngpool" << command << ": " << refused.err);
    CHECK(refused.exit_code == 1);
    CHECK(refused.out.empty());
    CHECK_THAT(refused.err, Catch::Contains("PERMISSION_DENIED"));
  }
  CHECK(run_command("timeout 20 " + cli + " ping").exit_code == 0);
}
