// A blocking Unix-socket client with timeouts, for tests that need to see
// the daemon's exact bytes (the client library hides them).
#pragma once

#include "rngpool/protocol/frame.hpp"
#include "rngpool/test/fd.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rngpool::test {

struct Reply {
  protocol::Header header;
  std::vector<std::uint8_t> payload;
  std::string payload_text() const { return {payload.begin(), payload.end()}; }
};

class TestConnection {
 public:
  // Connects at once; throws std::system_error when nobody listens.
  explicit TestConnection(const std::string& socket_path,
                          std::chrono::milliseconds timeout = std::chrono::seconds{10});
  TestConnection(TestConnection&& other) noexcept = default;
  TestConnection& operator=(TestConnection&& other) noexcept = default;
  TestConnection(const TestConnection&) = delete;
  TestConnection& operator=(const TestConnection&) = delete;

  // Every read below throws std::runtime_error when it takes longer than this.
  void set_timeout(std::chrono::milliseconds timeout) { timeout_ = timeout; }

  void send(std::span<const std::uint8_t> bytes);  // all of them; throws on error
  void send(std::string_view text);
  void shutdown_write();

  // Throws on EOF or timeout.
  std::vector<std::uint8_t> read_exact(std::size_t n);
  // A binary reply: header (checked by decode_reply_header, throws when
  // malformed) and its payload.
  Reply read_reply();
  Reply request(std::span<const std::uint8_t> frame);  // send, then read_reply
  // Text mode: one line without its "\n"; throws on EOF before "\n".
  std::string read_line();
  // Everything until the peer closes.
  std::string read_until_eof();
  // True when the peer closes (EOF or reset) within the timeout; bytes
  // arriving before that are discarded.
  bool wait_closed();

  int fd() const { return fd_.get(); }

 private:
  // Appends at least one byte to buffer_; false on EOF (or reset when
  // eof_on_reset).  Throws on timeout.
  bool fill(std::chrono::steady_clock::time_point deadline, bool eof_on_reset = false);
  std::chrono::steady_clock::time_point deadline() const;

  Fd fd_;
  std::chrono::milliseconds timeout_;
  std::string buffer_;  // bytes read but not yet consumed
};

}  // namespace rngpool::test
