// A client sending garbage gets an error reply and is closed; nobody else notices.
#include "rngpool/test/support.hpp"

#include <catch2/catch.hpp>

using namespace rngpool;
using namespace rngpool::test;
using protocol::Opcode;
using protocol::Status;

namespace {

// Sends `bytes` on a fresh connection and checks the one error reply and the close.
void expect_fatal(const std::string& socket_path, const std::vector<std::uint8_t>& bytes, Status status,
                  const std::string& reason, std::uint32_t request_id) {
  TestConnection bad(socket_path);
  bad.send(bytes);
  auto reply = bad.read_reply();
  CHECK(reply.header.status == status);
  CHECK(reply.header.request_id == request_id);
  CHECK(reply.payload_text() == reason);
  CHECK(bad.wait_closed());
}

std::vector<std::uint8_t> ping_frame_with(std::size_t offset, std::vector<std::uint8_t> patch) {
  auto frame = protocol::encode_request(Opcode::ping, 31);
  std::copy(patch.begin(), patch.end(), frame.begin() + static_cast<std::ptrdiff_t>(offset));
  return frame;
}

}  // namespace

TEST_CASE("malformed frames from one client leave another client served", "[binary][malformed]") {
  TestDaemon daemon;
  TestConnection good(daemon.socket_path());
  CHECK(get_random(good, 32).payload.size() == 32);

  SECTION("a first byte that selects no mode") {
    expect_fatal(daemon.socket_path(), {0x16, 0x03, 0x01, 0x00}, Status::bad_frame, "bad magic 0x16", 0);
  }
  SECTION("a hostile length field") {
    expect_fatal(daemon.socket_path(), ping_frame_with(12, {0xFF, 0xFF, 0xFF, 0xFF}), Status::bad_frame,
                 "payload length 4294967295 exceeds 64", 31);
  }
  SECTION("an unsupported version") {
    expect_fatal(daemon.socket_path(), ping_frame_with(1, {2}), Status::unsupported_version,
                 "unsupported version 2", 0);
  }
  SECTION("a GET_RANDOM with a short payload") {
    auto frame = protocol::encode_request(Opcode::get_random, 12, 0, std::vector<std::uint8_t>{0, 0, 1});
    expect_fatal(daemon.socket_path(), frame, Status::bad_frame, "GET_RANDOM payload must be 4 bytes, got 3", 12);
  }
  SECTION("an unknown opcode is answered but not fatal") {
    TestConnection odd(daemon.socket_path());
    auto reply = odd.request(ping_frame_with(2, {0x09}));
    CHECK(reply.header.status == Status::unknown_opcode);
    CHECK(reply.payload_text() == "unknown opcode 0x09");
    CHECK(ping(odd).header.status == Status::ok);
  }

  CHECK(get_random(good, 64).payload.size() == 64);
  CHECK(ping(good).header.status == Status::ok);
}

TEST_CASE("a malformed frame after good ones is answered after their replies", "[binary][malformed]") {
  TestDaemon daemon;
  TestConnection connection(daemon.socket_path());
  auto batch = protocol::encode_get_random(1, 100);
  auto garbage = ping_frame_with(6, {0x00, 0x01});  // the reserved field set
  batch.insert(batch.end(), garbage.begin(), garbage.end());
  connection.send(batch);

  auto first = connection.read_reply();
  CHECK(first.header.status == Status::ok);
  CHECK(first.payload.size() == 100);
  auto error = connection.read_reply();
  CHECK(error.header.status == Status::bad_frame);
  CHECK(error.payload_text() == "reserved field must be 0");
  CHECK(connection.wait_closed());
}
