#include "rngpool/test/notify_socket.hpp"

#include "rngpool/test/unix_socket.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace rngpool::test {

NotifySocket::NotifySocket(std::filesystem::path path)
    : path_(std::move(path)), fd_(bind_datagram(path_.native())) {}

NotifySocket::~NotifySocket() { unlink(path_.c_str()); }

std::optional<std::string> NotifySocket::wait_for(std::string_view prefix, std::chrono::milliseconds timeout,
                                                  std::size_t from) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (std::size_t i = from;;) {
    for (; i < lines_.size(); ++i)
      if (std::string_view(lines_[i]).starts_with(prefix)) return lines_[i];
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd p{fd_.get(), POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char datagram[4096];
    ssize_t n = recv(fd_.get(), datagram, sizeof datagram, MSG_DONTWAIT);
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
