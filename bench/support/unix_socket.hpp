// File descriptors and Unix stream sockets for the service benchmark.
//
// Every process in the bench (load generator, bare server, daemon launcher)
// opens sockets, FIFOs and epoll instances; one owning handle and a few
// helpers that turn errno into exceptions keep those paths short and leak-free.
#pragma once

#include <string>
#include <utility>

namespace rngpool::bench {

[[noreturn]] void throw_errno(const std::string& what);

// Owns one file descriptor; closes it on destruction.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept
  {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  void reset();

 private:
  int fd_ = -1;
};

// A listening SOCK_STREAM socket at `path` (a stale file is removed first),
// with the kernel's largest backlog so a burst of connects never stalls.
Fd listen_unix(const std::string& path);
// A connected, blocking stream socket.
Fd connect_unix(const std::string& path);
void set_nonblocking(int fd);
// Writes all of `size` bytes to a blocking descriptor.
void write_all(int fd, const void* data, std::size_t size);

}  // namespace rngpool::bench
