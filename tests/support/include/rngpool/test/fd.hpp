// An owning file descriptor, and errno turned into an exception.
//
// Tests and benchmarks both open sockets, FIFOs, pipes and epoll instances
// and must not leak them when a check throws halfway; one handle type and one
// way to report a failed system call keep every such path short.
#pragma once

#include <cstddef>
#include <string>
#include <utility>

namespace rngpool::test {

// Throws std::system_error for the current errno, naming `what` failed.
[[noreturn]] void throw_errno(const std::string& what);

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
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

// Writes all `size` bytes to a blocking descriptor; throws on error.
void write_all(int fd, const void* data, std::size_t size);

}  // namespace rngpool::test
