// Unix stream sockets with bounded waits.
//
// The socket is non-blocking and every wait goes through poll(), so a daemon
// that hangs costs the caller at most the configured timeout, never forever.
// send() uses MSG_NOSIGNAL: a daemon that went away must surface as EPIPE,
// which the client recovers from, not as a SIGPIPE that kills the process.
#include "socket.hpp"

#include "error_text.hpp"

#include <cerrno>
#include <cstring>
#include <utility>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace rngpool::detail {

Socket::Socket(Socket&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {}

Socket& Socket::operator=(Socket&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
  }
  return *this;
}

void Socket::close() noexcept {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

bool Socket::peer_closed() const noexcept {
  if (fd_ < 0) return true;
  pollfd entry{fd_, POLLRDHUP, 0};
  return ::poll(&entry, 1, 0) != 0 && (entry.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

// ---------------------------------------------------------------------------
// Connecting
//
// A Unix socket connect either completes at once or fails at once, except
// when the listener's backlog is full (EAGAIN): then we retry until the
// connect timeout, as a blocking connect would have waited.
// ---------------------------------------------------------------------------

static sockaddr_un unix_address(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof address.sun_path) {
    throw connect_error(path, path.empty() ? ENOENT : ENAMETOOLONG);
  }
  std::memcpy(address.sun_path, path.data(), path.size());
  return address;
}

Socket Socket::connect(const std::string& path, std::chrono::milliseconds timeout) {
  const sockaddr_un address = unix_address(path);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    throw connect_error(path, errno);
  }
  Socket socket(fd, path);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    const int err = errno;
    if (err == EINTR) continue;
    if (err == EINPROGRESS) {
      socket.wait_for(POLLOUT, timeout);
      int so_error = 0;
      socklen_t length = sizeof so_error;
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &length);
      if (so_error != 0) throw connect_error(path, so_error);
      break;
    }
    if (err != EAGAIN || std::chrono::steady_clock::now() >= deadline) {
      throw connect_error(path, err);
    }
    ::usleep(1000);
  }
  return socket;
}

// ---------------------------------------------------------------------------
// Bounded I/O
// ---------------------------------------------------------------------------

void Socket::wait_for(short events, std::chrono::milliseconds timeout) {
  pollfd descriptor{fd_, events, 0};
  for (;;) {
    const int ready = ::poll(&descriptor, 1, static_cast<int>(timeout.count()));
    if (ready > 0) return;  // readable, writable or in error: the next call says which
    if (ready == 0) throw timeout_error(path_, timeout);
    if (errno != EINTR) throw io_error(path_, errno);
  }
}

void Socket::send_all(std::span<const std::uint8_t> bytes, std::chrono::milliseconds timeout) {
  while (!bytes.empty()) {
    const ssize_t sent = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent >= 0) {
      bytes = bytes.subspan(static_cast<std::size_t>(sent));
    } else if (errno == EAGAIN) {
      wait_for(POLLOUT, timeout);
    } else if (errno != EINTR) {
      throw io_error(path_, errno);
    }
  }
}

void Socket::recv_exact(std::span<std::uint8_t> bytes, std::chrono::milliseconds timeout) {
  while (!bytes.empty()) {
    const ssize_t got = ::recv(fd_, bytes.data(), bytes.size(), 0);
    if (got > 0) {
      bytes = bytes.subspan(static_cast<std::size_t>(got));
    } else if (got == 0) {
      throw io_error(path_, 0);
    } else if (errno == EAGAIN) {
      wait_for(POLLIN, timeout);
    } else if (errno != EINTR) {
      throw io_error(path_, errno);
    }
  }
}

}  // namespace rngpool::detail
