// librngpool against a daemon that answers the wrong question (issue 9, item
// 10): every reply must carry the opcode and request id of the request just
// sent; anything else is a protocol error and the connection is closed, so
// a stray STATUS or PING reply is never taken for random bytes.
#include "rngpool/rngpool.h"
#include "rngpool/rngpool.hpp"
#include "rngpool/protocol/frame.hpp"
#include "rngpool/test/support.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace rngpool;
using namespace rngpool::test;
namespace proto = rngpool::protocol;
using namespace std::chrono_literals;

namespace {

// A reply header with the given opcode and id, then `payload`.
bool reply(int fd, proto::Opcode opcode, std::uint32_t id, proto::Status status, std::string_view payload) {
  std::array<std::uint8_t, proto::kHeaderSize> header{};
  proto::encode_header(proto::reply_header(opcode, id, status, static_cast<std::uint32_t>(payload.size())), header);
  return send_all(fd, header) &&
         send_all(fd, {reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size()});
}

// Answers every request with a well-formed reply of another opcode: the
// payload is as long as a GET_RANDOM asked, or a status report.
StubServer::Answer wrong_opcode() {
  return [](int fd, const proto::Request& request) {
    const std::uint32_t id = request.header.request_id;
    switch (request.opcode) {
      case proto::Opcode::get_random:
        return reply(fd, proto::Opcode::status, id, proto::Status::ok, std::string(request.count, 'A'));
      case proto::Opcode::status:
        return reply(fd, proto::Opcode::get_random, id, proto::Status::ok, "state: ready\n");
      default:
        return reply(fd, proto::Opcode::status, id, proto::Status::ok, "");
    }
  };
}

void require_protocol_error(const std::function<void()>& call, const std::string& what) {
  try {
    call();
    FAIL("a mismatched reply was accepted");
  } catch (const Error& error) {
    CHECK(error.kind() == ErrorKind::protocol);
    CHECK_THAT(error.what(), Catch::Contains(what));
  }
}

}  // namespace

TEST_CASE("client: a reply with another request's opcode is a protocol error and closes the connection",
          "[client][protocol]") {
  TempDir dir("rngpool-replies");
  StubServer server((dir.path() / "stub.sock").native(), wrong_opcode());
  const Client client(server.path());

  require_protocol_error([&] { client.token_bytes(32); }, "to a GET_RANDOM request");
  CHECK(eventually([&] { return server.ended() == 1; }, 5s));
  require_protocol_error([&] { client.status(); }, "to a STATUS request");
  CHECK(eventually([&] { return server.ended() == 2; }, 5s));
  require_protocol_error([&] { client.ping(); }, "to a PING request");
  CHECK(eventually([&] { return server.ended() == 3; }, 5s));
  CHECK(server.connections() == 3);  // one connection per exchange, each closed after it

  rngpool_client* handle = rngpool_open(server.path().c_str());
  unsigned char bytes[16];
  CHECK(rngpool_bytes(handle, bytes, sizeof bytes) == RNGPOOL_E_PROTOCOL);
  CHECK_THAT(rngpool_last_error(), Catch::Contains("to a GET_RANDOM request"));
  rngpool_close(handle);
}

TEST_CASE("client: a reply to another request id is a protocol error", "[client][protocol]") {
  TempDir dir("rngpool-replies");
  StubServer server((dir.path() / "stub.sock").native(), [](int fd, const proto::Request& request) {
    return reply(fd, request.opcode, request.header.request_id + 1, proto::Status::ok, std::string(request.count, 'A'));
  });
  const Client client(server.path());
  require_protocol_error([&] { client.token_bytes(32); }, "expected");
  CHECK(eventually([&] { return server.ended() == 1; }, 5s));
}

TEST_CASE("client: the daemon's refusal of a whole connection (opcode 0, id 0) is reported as such",
          "[client][protocol]") {
  // PROTOCOL.md §7: an error that belongs to no request carries opcode 0 and
  // request id 0.  It is the daemon's answer, not a stream out of step.
  TempDir dir("rngpool-replies");
  StubServer server((dir.path() / "stub.sock").native(), [](int fd, const proto::Request&) {
    const auto refusal = proto::encode_error_reply(0, 0, proto::Status::busy, "too many connections");
    return send_all(fd, refusal);
  });
  const Client client(server.path());
  try {
    client.token_bytes(32);
    FAIL("a refusal was accepted");
  } catch (const Error& error) {
    CHECK(error.kind() == ErrorKind::daemon);
    CHECK(error.status_name() == "BUSY");
    CHECK_THAT(error.what(), Catch::Contains("too many connections"));
  }
  CHECK(eventually([&] { return server.ended() == 1; }, 5s));
}

TEST_CASE("C API: rngpool_open_timed's reply limit turns a silent daemon into RNGPOOL_E_TIMEOUT",
          "[client][c-api]") {
  // A server that reads every request and never answers: with the default
  // 30 s limit the call would still be waiting when the bound below passes.
  TempDir dir("rngpool-replies");
  StubServer server((dir.path() / "stub.sock").native(), [](int, const proto::Request&) { return true; });
  rngpool_client* handle = rngpool_open_timed(server.path().c_str(), 0, 0, 200);
  REQUIRE(handle != nullptr);
  std::array<std::uint8_t, 32> out{};
  const auto start = std::chrono::steady_clock::now();
  CHECK(rngpool_bytes(handle, out.data(), out.size()) == RNGPOOL_E_TIMEOUT);
  CHECK(std::chrono::steady_clock::now() - start < 10s);
  rngpool_close(handle);
}
