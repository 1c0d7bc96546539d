#include "support/notify_socket.hpp"

#include <cstring>
#include <poll.h>
#include <stdexcept>
#include <string_view>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace rngpool::bench {

namespace {

sockaddr_un datagram_address(const std::string& path)
{
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof address.sun_path) throw std::runtime_error("path too long: " + path);
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  return address;
}

bool has_ready_line(std::string_view message)
{
  while (!message.empty()) {
    const auto end = message.find('\n');
    if (message.substr(0, end) == "READY=1") return true;
    if (end == std::string_view::npos) break;
    message.remove_prefix(end + 1);
  }
  return false;
}

}  // namespace

NotifySocket::NotifySocket(std::string path) : path_(std::move(path))
{
  const sockaddr_un address = datagram_address(path_);
  fd_ = Fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd_) throw_errno("socket");
  ::unlink(path_.c_str());
  if (::bind(fd_.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    throw_errno("bind " + path_);
  }
}

NotifySocket::~NotifySocket() { ::unlink(path_.c_str()); }

bool NotifySocket::wait_ready(std::chrono::milliseconds timeout, const std::function<bool()>& alive)
{
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + timeout;
  char message[4096];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0 || !alive()) return false;
    // Short slices so a child that died is noticed at once.
    pollfd p{fd_.get(), POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 20)));
    if (ready <= 0) continue;
    const ssize_t n = ::recv(fd_.get(), message, sizeof message, 0);
    if (n > 0 && has_ready_line({message, static_cast<std::size_t>(n)})) return true;
  }
}

void notify_ready(const std::string& notify_path)
{
  const sockaddr_un address = datagram_address(notify_path);
  Fd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd) throw_errno("socket");
  static constexpr char kReady[] = "READY=1";
  if (::sendto(fd.get(), kReady, sizeof kReady - 1, 0, reinterpret_cast<const sockaddr*>(&address),
               sizeof address) < 0) {
    throw_errno("sendto " + notify_path);
  }
}

}  // namespace rngpool::bench
