#include "rngpool/test/unix_socket.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

namespace rngpool::test {

namespace {

Fd unix_socket(int type) {
  Fd fd(socket(AF_UNIX, type | SOCK_CLOEXEC, 0));
  if (!fd) throw_errno("socket");
  return fd;
}

void bind_to(const Fd& fd, const std::string& path) {
  const sockaddr_un address = unix_address(path);
  if (bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) throw_errno("bind " + path);
}

}  // namespace

sockaddr_un unix_address(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof address.sun_path) throw std::invalid_argument("socket path too long: " + path);
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  return address;
}

Fd connect_unix(const std::string& path) {
  const sockaddr_un address = unix_address(path);
  Fd fd = unix_socket(SOCK_STREAM);
  if (connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0)
    throw_errno("connect " + path);
  return fd;
}

Fd listen_unix(const std::string& path) {
  Fd fd = unix_socket(SOCK_STREAM);
  unlink(path.c_str());
  bind_to(fd, path);
  if (listen(fd.get(), SOMAXCONN) != 0) throw_errno("listen " + path);
  return fd;
}

Fd bind_datagram(const std::string& path) {
  Fd fd = unix_socket(SOCK_DGRAM);
  bind_to(fd, path);
  return fd;
}

void set_nonblocking(int fd) {
  const int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) throw_errno("fcntl O_NONBLOCK");
}

}  // namespace rngpool::test
