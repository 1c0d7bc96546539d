#include "support/unix_socket.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace rngpool::bench {

void throw_errno(const std::string& what)
{
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

void Fd::reset()
{
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

namespace {

sockaddr_un unix_address(const std::string& path)
{
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof address.sun_path) {
    throw std::runtime_error("socket path too long: " + path);
  }
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  return address;
}

}  // namespace

Fd listen_unix(const std::string& path)
{
  const sockaddr_un address = unix_address(path);
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) throw_errno("socket");
  ::unlink(path.c_str());
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    throw_errno("bind " + path);
  }
  if (::listen(fd.get(), SOMAXCONN) != 0) throw_errno("listen " + path);
  return fd;
}

Fd connect_unix(const std::string& path)
{
  const sockaddr_un address = unix_address(path);
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) throw_errno("socket");
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    throw_errno("connect " + path);
  }
  return fd;
}

void set_nonblocking(int fd)
{
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) throw_errno("fcntl O_NONBLOCK");
}

void write_all(int fd, const void* data, std::size_t size)
{
  const auto* bytes = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, bytes, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("write");
    }
    bytes += n;
    size -= static_cast<std::size_t>(n);
  }
}

}  // namespace rngpool::bench
