#include "rngpool/test/fd.hpp"

#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace rngpool::test {

void throw_errno(const std::string& what) { throw std::system_error(errno, std::generic_category(), what); }

void Fd::reset() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

void write_all(int fd, const void* data, std::size_t size) {
  const auto* bytes = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = write(fd, bytes, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("write");
    }
    bytes += n;
    size -= static_cast<std::size_t>(n);
  }
}

}  // namespace rngpool::test
