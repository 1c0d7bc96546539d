// A connected Unix stream socket whose every wait is bounded.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>

namespace rngpool::detail {

class Socket {
 public:
  Socket() = default;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  Socket(Socket&& other) noexcept;
  Socket& operator=(Socket&& other) noexcept;
  ~Socket() { close(); }

  // Throws rngpool::Error (connect, timeout).
  static Socket connect(const std::string& path, std::chrono::milliseconds timeout);

  bool is_open() const noexcept { return fd_ >= 0; }
  // Closing sends nothing: a forked child drops its copy of the parent's
  // connection this way without disturbing the parent.
  void close() noexcept;
  // The peer has closed its end, whether or not replies it sent before are
  // still unread (poll's POLLRDHUP, never waits): the daemon is gone or has
  // dropped us.
  bool peer_closed() const noexcept;

  // Each waits at most `timeout` for the peer to make progress.  Throw
  // rngpool::Error (io with the errno, or os_error 0 at end of stream; timeout).
  void send_all(std::span<const std::uint8_t> bytes, std::chrono::milliseconds timeout);
  void recv_exact(std::span<std::uint8_t> bytes, std::chrono::milliseconds timeout);

 private:
  explicit Socket(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  void wait_for(short events, std::chrono::milliseconds timeout);
  int fd_ = -1;
  std::string path_;
};

}  // namespace rngpool::detail
