#include "rngpool/test/notify_socket.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

namespace rngpool::test {

NotifySocket::NotifySocket(std::filesystem::path path) : path_(std::move(path)) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path_.native().size() >= sizeof address.sun_path) throw std::invalid_argument("path too long: " + path_.native());
  std::memcpy(address.sun_path, path_.c_str(), path_.native().size() + 1);
  fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "socket");
  if (bind(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    int error = errno;
    close(fd_);
    throw std::system_error(error, std::generic_category(), "bind " + path_.native());
  }
}

NotifySocket::~NotifySocket() {
  close(fd_);
  unlink(path_.c_str());
}

std::optional<std::string> NotifySocket::wait_for(std::string_view prefix, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (std::size_t i = 0;;) {
    for (; i < lines_.size(); ++i)
      if (std::string_view(lines_[i]).starts_with(prefix)) return lines_[i];
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char datagram[4096];
    ssize_t n = recv(fd_, datagram, sizeof datagram, MSG_DONTWAIT);
    if (n <= 0) continue;
    // One datagram holds several newline-separated assignments.
    std::string_view text(datagram, static_cast<std::size_t>(n));
    while (!text.empty()) {
      auto end = text.find('\n');
      lines_.emplace_back(text.substr(0, end));
      text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    }
  }
}

}  // namespace rngpool::test
