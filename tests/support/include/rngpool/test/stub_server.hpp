// A stand-in for rngpoold that speaks the binary protocol and answers each
// request however a test says: slowly (the fork tests), or wrongly (the
// client's reply checks).
//
// One thread per connection decodes requests with the protocol's own decoder
// and hands each to the test's answer function, which writes the reply.
#pragma once

#include "rngpool/protocol/frame.hpp"
#include "rngpool/test/fd.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

namespace rngpool::test {

// Sends every byte (MSG_NOSIGNAL); false when the peer is gone.
bool send_all(int fd, std::span<const std::uint8_t> bytes);

class StubServer {
 public:
  // Writes the reply to `request` on `fd`; false closes the connection.
  using Answer = std::function<bool(int fd, const protocol::Request& request)>;

  StubServer(const std::string& path, Answer answer);
  ~StubServer();
  StubServer(const StubServer&) = delete;
  StubServer& operator=(const StubServer&) = delete;

  const std::string& path() const { return path_; }
  int connections() const { return connections_.load(); }   // accepted so far
  // Connections over while the server ran: the client closed them (EOF, a
  // reset, or a reply the closed socket refused), or a request did not decode.
  int ended() const { return ended_.load(); }

 private:
  void accept_loop();
  void serve(int fd);

  std::string path_;
  Answer answer_;
  Fd listener_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::atomic<int> ended_{0};
  std::mutex mutex_;
  std::vector<int> fds_;
  std::vector<std::thread> servers_;
  std::thread acceptor_;  // last: it starts once everything above exists
};

}  // namespace rngpool::test
