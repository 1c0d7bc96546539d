// Binary frames against the real daemon: round trips, pipelining, limits.
#include "rngpool/test/support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <thread>

using namespace rngpool;
using namespace rngpool::test;
using protocol::Opcode;
using protocol::Status;

namespace {

constexpr std::uint8_t reply_opcode(Opcode opcode) {
  return static_cast<std::uint8_t>(static_cast<std::uint8_t>(opcode) | protocol::kReplyBit);
}

}  // namespace

TEST_CASE("GET_RANDOM returns exactly the requested count", "[binary]") {
  TestDaemon daemon;
  TestConnection connection(daemon.socket_path());
  std::uint32_t id = 1000;
  for (std::uint32_t count : {0u, 1u, 32u, 64u * 1024u + 1u, 1024u * 1024u}) {
    CAPTURE(count);
    auto reply = get_random(connection, count, 0, ++id);
    CHECK(reply.header.status == Status::ok);
    CHECK(reply.header.opcode == reply_opcode(Opcode::get_random));
    CHECK(reply.header.request_id == id);
    REQUIRE(reply.payload.size() == count);
    if (count == 1024u * 1024u) {
      // A megabyte of random bytes uses every byte value.
      std::set<std::uint8_t> values(reply.payload.begin(), reply.payload.end());
      CHECK(values.size() == 256);
    }
  }
  auto first = get_random(connection, 32).payload;
  auto second = get_random(connection, 32).payload;
  CHECK(first != second);
}

TEST_CASE("PING and STATUS answer with their reply opcodes", "[binary]") {
  TestDaemon daemon;
  TestConnection connection(daemon.socket_path());

  auto pong = ping(connection, 77);
  CHECK(pong.header.status == Status::ok);
  CHECK(pong.header.opcode == reply_opcode(Opcode::ping));
  CHECK(pong.header.request_id == 77);
  CHECK(pong.payload.empty());

  auto status = connection.request(protocol::encode_request(Opcode::status, 78));
  CHECK(status.header.status == Status::ok);
  CHECK(status.header.opcode == reply_opcode(Opcode::status));
  CHECK(status.header.request_id == 78);
  CHECK(protocol::parse_status_report(status.payload_text()).has_value());
}

TEST_CASE("pipelined requests are answered in order, echoing their ids", "[binary]") {
  TestDaemon daemon;
  TestConnection connection(daemon.socket_path());

  struct Expected {
    std::uint8_t opcode;
    std::uint32_t id;
    std::size_t length;  // GET_RANDOM and PING only
  };
  std::vector<std::uint8_t> batch;
  std::vector<Expected> expected;
  for (std::uint32_t i = 0; i < 10; ++i) {
    std::uint32_t id = 0xA0000000u + i * 7919u;  // ids need not be increasing
    std::vector<std::uint8_t> frame;
    if (i % 5 == 3) {
      frame = protocol::encode_request(Opcode::ping, id);
      expected.push_back({reply_opcode(Opcode::ping), id, 0});
    } else if (i % 5 == 4) {
      frame = protocol::encode_request(Opcode::status, id);
      expected.push_back({reply_opcode(Opcode::status), id, SIZE_MAX});
    } else {
      std::uint32_t count = i * 50000u + 1u;  // up to 450 KB: replies span many chunks
      frame = protocol::encode_get_random(id, count);
      expected.push_back({reply_opcode(Opcode::get_random), id, count});
    }
    batch.insert(batch.end(), frame.begin(), frame.end());
  }
  connection.send(batch);

  for (const auto& want : expected) {
    auto reply = connection.read_reply();
    CAPTURE(want.id);
    CHECK(reply.header.status == Status::ok);
    CHECK(reply.header.opcode == want.opcode);
    CHECK(reply.header.request_id == want.id);
    if (want.length != SIZE_MAX) CHECK(reply.payload.size() == want.length);
  }
}

TEST_CASE("64 concurrent clients are all served", "[binary][concurrency]") {
  constexpr int kClients = 64;
  constexpr int kRequestsEach = 20;
  TestDaemon daemon;

  // Every connection is open before any request, so they really overlap.
  std::vector<TestConnection> connections;
  for (int i = 0; i < kClients; ++i) connections.emplace_back(daemon.socket_path());
  CHECK(status_number(status_report(daemon.socket_path()), "clients_connected") >= kClients + 1);

  // Catch2 assertions are not thread-safe: threads report what went wrong.
  std::vector<std::string> errors(kClients);
  std::vector<std::vector<std::vector<std::uint8_t>>> blocks(kClients);
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      try {
        for (int r = 0; r < kRequestsEach; ++r) {
          auto count = static_cast<std::uint32_t>(r % 2 == 0 ? 32 : 1 + (c * 997 + r * 131) % 20000);
          auto id = static_cast<std::uint32_t>(c * 1000 + r);
          auto reply = get_random(connections[static_cast<std::size_t>(c)], count, 0, id);
          if (reply.header.status != Status::ok || reply.header.request_id != id || reply.payload.size() != count)
            throw std::runtime_error("bad reply to request " + std::to_string(id));
          if (count == 32) blocks[static_cast<std::size_t>(c)].push_back(reply.payload);
        }
      } catch (const std::exception& e) {
        errors[static_cast<std::size_t>(c)] = e.what();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& error : errors) CHECK(error.empty());

  // No two clients were handed the same bytes.
  std::set<std::vector<std::uint8_t>> distinct;
  std::size_t total = 0;
  for (const auto& client : blocks) {
    distinct.insert(client.begin(), client.end());
    total += client.size();
  }
  CHECK(distinct.size() == total);
}

TEST_CASE("a count above --max-request is TOO_LARGE and the connection goes on", "[binary][limits]") {
  TestDaemon daemon({.args = {"--max-request", "1000"}});
  TestConnection connection(daemon.socket_path());

  CHECK(get_random(connection, 1000).payload.size() == 1000);
  auto refused = get_random(connection, 1001, 0, 9);
  CHECK(refused.header.status == Status::too_large);
  CHECK(refused.header.request_id == 9);
  CHECK_THAT(refused.payload_text(), Catch::Contains("1001"));
  CHECK(ping(connection).header.status == Status::ok);
}

TEST_CASE("the default --max-request is 1 MiB", "[binary][limits]") {
  TestDaemon daemon;
  TestConnection connection(daemon.socket_path());
  CHECK(get_random(connection, 1024 * 1024 + 1).header.status == Status::too_large);
  CHECK(get_random(connection, 1024 * 1024).payload.size() == 1024 * 1024);
}

TEST_CASE("NONBLOCK on a seeded daemon serves at once", "[binary][flags]") {
  TestDaemon daemon;
  TestConnection connection(daemon.socket_path());
  // The daemon answered PING, but the first seed may still be on its way.
  REQUIRE(eventually([&] { return get_random(connection, 16, protocol::flags::nonblock).header.status == Status::ok; }));
  auto reply = get_random(connection, 48, protocol::flags::nonblock);
  CHECK(reply.header.status == Status::ok);
  CHECK(reply.payload.size() == 48);
}

TEST_CASE("unknown flag bits are refused, not ignored", "[binary][flags]") {
  TestDaemon daemon;
  TestConnection connection(daemon.socket_path());
  auto reply = get_random(connection, 16, 0x0100, 5);
  CHECK(reply.header.status == Status::bad_frame);
  CHECK_THAT(reply.payload_text(), Catch::Contains("unknown flags 0x0100"));
  CHECK(connection.wait_closed());
}
