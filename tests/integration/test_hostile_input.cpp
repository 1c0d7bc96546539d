// Hostile bytes on the socket (issue 5 §4): garbage connections, a hostile
// length field, half-closed sockets.  Whatever one client sends, the daemon
// answers or closes it, and everyone else is served as before.
#include "robustness_support.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <random>
#include <thread>

using namespace rngpool;
using namespace rngpool::test;
using namespace rngpool::test::robustness;
using namespace std::chrono_literals;
using protocol::Opcode;
using protocol::Status;

namespace {

// Garbage that reaches past the mode byte: pure noise, a binary header with
// noise behind the magic, and text-mode noise.
std::vector<std::uint8_t> garbage(std::mt19937& rng) {
  auto bytes = random_bytes(std::uniform_int_distribution<std::size_t>(1, 600)(rng));
  switch (rng() % 3) {
    case 0:
      break;
    case 1:
      bytes[0] = protocol::kMagic;
      if (bytes.size() > 1 && rng() % 2 == 0) bytes[1] = protocol::kVersion;
      break;
    case 2:
      bytes[0] = static_cast<std::uint8_t>('A' + rng() % 26);
      break;
  }
  return bytes;
}

// A client that checks every reply while it runs.
struct GoodClient {
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> replies{0};
  std::string failure;  // read after join
  BlockRepeats blocks;
  std::thread thread;

  explicit GoodClient(const std::string& socket_path) {
    thread = std::thread([this, socket_path] {
      try {
        TestConnection connection(socket_path);
        std::mt19937 rng(7);
        for (std::uint32_t id = 1; !stop; ++id) {
          std::uint32_t count = std::uniform_int_distribution<std::uint32_t>(1, 65536)(rng);
          auto reply = get_random(connection, count, 0, id);
          if (reply.header.status != Status::ok || reply.header.request_id != id || reply.payload.size() != count) {
            failure = "request " + std::to_string(id) + ": " +
                      std::string(protocol::status_name(reply.header.status)) + ", " +
                      std::to_string(reply.payload.size()) + " of " + std::to_string(count) + " bytes";
            return;
          }
          blocks.add(reply.payload);
          ++replies;
        }
      } catch (const std::exception& e) {
        failure = e.what();
      }
    });
  }
  ~GoodClient() { finish(); }
  void finish() {
    stop = true;
    if (thread.joinable()) thread.join();
  }
};

}  // namespace

TEST_CASE("1000 garbage connections while a good client is served", "[hostile]") {
  TestDaemon daemon;
  GoodClient good(daemon.socket_path());
  std::mt19937 rng(std::random_device{}());
  std::uint64_t closed = 0;
  constexpr int kGarbage = 1000;
  constexpr int kAtOnce = 25;
  for (int done = 0; done < kGarbage; done += kAtOnce) {
    std::vector<TestConnection> batch;
    for (int i = 0; i < kAtOnce; ++i) {
      batch.emplace_back(daemon.socket_path());
      batch.back().send(garbage(rng));
      // Text noise without a newline would wait for the idle timeout; the
      // end of input makes the daemon answer what it has and close.
      batch.back().shutdown_write();
    }
    for (auto& connection : batch) closed += connection.wait_closed();
  }
  auto before_finish = good.replies.load();
  CHECK(eventually([&] { return good.replies > before_finish; }));  // still served after the storm
  good.finish();

  INFO(daemon.log());
  CHECK(closed == kGarbage);
  CHECK(good.failure == "");
  CHECK(good.replies > 0);
  CHECK(good.blocks.repeats() == 0);
  CHECK(daemon.running());
  auto report = status_report(daemon.socket_path());
  CHECK(status_number(report, "connections_accepted") >= kGarbage + 2);
}

TEST_CASE("a length field of 2^32-1 is refused before anything is allocated", "[hostile]") {
  TestDaemon daemon;
  TestConnection warm(daemon.socket_path());
  CHECK(get_random(warm, 1 << 20).payload.size() == 1 << 20);  // the daemon's working set, in place
  const auto rss_before = rss_kib(daemon.pid());

  for (auto opcode : {Opcode::get_random, Opcode::status, Opcode::ping}) {
    for (int i = 0; i < 20; ++i) {
      auto frame = protocol::encode_request(opcode, 77);
      std::fill(frame.end() - 4, frame.end(), std::uint8_t{0xFF});
      // Payload bytes the daemon must not wait for, let alone buffer.
      frame.resize(frame.size() + 4096, 0x42);
      TestConnection hostile(daemon.socket_path());
      hostile.send(frame);
      auto reply = hostile.read_reply();
      CHECK(reply.header.status == Status::bad_frame);
      CHECK(reply.header.request_id == 77);
      CHECK(reply.payload_text() == "payload length 4294967295 exceeds 64");
      CHECK(hostile.wait_closed());
    }
  }
  const auto rss_after = rss_kib(daemon.pid());
  INFO("daemon VmRSS " << rss_before << " KiB before, " << rss_after << " KiB after");
  // A buffer sized by the length field would be 4 GiB; 1 MiB is noise.
  CHECK(rss_after <= rss_before + 1024);
  CHECK(get_random(warm, 32).payload.size() == 32);
}

TEST_CASE("half-closed sockets still get their replies, then EOF", "[hostile]") {
  TestDaemon daemon;
  SECTION("binary: pipelined requests, then shutdown(SHUT_WR)") {
    TestConnection connection(daemon.socket_path());
    std::vector<std::uint8_t> batch;
    const std::vector<std::uint32_t> counts = {1 << 20, 1, 0, 70000, 16};
    for (std::uint32_t i = 0; i < counts.size(); ++i) append(batch, protocol::encode_get_random(i + 1, counts[i]));
    append(batch, protocol::encode_request(Opcode::ping, 99));
    connection.send(batch);
    connection.shutdown_write();
    BlockRepeats blocks(1 << 20);
    for (std::uint32_t i = 0; i < counts.size(); ++i) {
      auto reply = connection.read_reply();
      CHECK(reply.header.status == Status::ok);
      CHECK(reply.header.request_id == i + 1);
      CHECK(reply.payload.size() == counts[i]);
      blocks.add(reply.payload);
    }
    CHECK(connection.read_reply().header.request_id == 99);
    CHECK(connection.read_until_eof().empty());
    CHECK(blocks.repeats() == 0);
  }
  SECTION("text: commands, then shutdown(SHUT_WR)") {
    TestConnection connection(daemon.socket_path());
    connection.send(std::string_view("HEX 16\nPING\nBASE64 3"));  // the last line unterminated
    connection.shutdown_write();
    auto hex = connection.read_line();
    CHECK(hex.size() == 32);
    CHECK(connection.read_line() == "PONG");
    // Whether an unterminated last line is answered is the daemon's choice;
    // either way it closes and sends nothing else.
    auto rest = connection.read_until_eof();
    CHECK((rest.empty() || (rest.size() == 5 && rest.back() == '\n')));
  }
}
