#include "support/bare_egd_server.hpp"

#include "rngpool/test/unix_socket.hpp"

#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace rngpool::bench {

namespace {

using test::Fd;
using test::throw_errno;

struct Connection {
  Fd fd;
  std::vector<std::uint8_t> in;   // bytes of an incomplete request
  std::vector<std::uint8_t> out;  // this batch's replies
};

class BareEgdServer {
 public:
  explicit BareEgdServer(const std::string& socket_path) : listener_(test::listen_unix(socket_path))
  {
    ::getrandom(prefilled_.data(), prefilled_.size(), 0);
    epoll_ = Fd(::epoll_create1(EPOLL_CLOEXEC));
    if (!epoll_) throw_errno("epoll_create1");
    test::set_nonblocking(listener_.get());
    watch(listener_.get());
  }

  [[noreturn]] void serve()
  {
    std::array<epoll_event, 64> events;
    for (;;) {
      const int n = ::epoll_wait(epoll_.get(), events.data(), static_cast<int>(events.size()), -1);
      for (int i = 0; i < n; ++i) {
        const int fd = events[static_cast<std::size_t>(i)].data.fd;
        if (fd == listener_.get()) {
          accept_all();
        } else if (auto it = connections_.find(fd); it != connections_.end() && !serve_one(*it->second)) {
          connections_.erase(it);
        }
      }
    }
  }

 private:
  void watch(int fd)
  {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = fd;
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &event) != 0) throw_errno("epoll_ctl");
  }

  void accept_all()
  {
    for (;;) {
      const int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      auto connection = std::make_unique<Connection>();
      connection->fd = Fd(fd);
      watch(fd);
      connections_.emplace(fd, std::move(connection));
    }
  }

  // false: the connection is done for (end of stream, an error, a bad command).
  bool serve_one(Connection& c)
  {
    const ssize_t n = ::recv(c.fd.get(), read_.data(), read_.size(), MSG_DONTWAIT);
    if (n == 0) return false;
    if (n < 0) return errno == EAGAIN || errno == EINTR;
    std::span<const std::uint8_t> bytes(read_.data(), static_cast<std::size_t>(n));
    if (!c.in.empty()) {  // rare: a request split across reads
      c.in.insert(c.in.end(), bytes.begin(), bytes.end());
      bytes = c.in;
    }
    std::size_t used = 0;
    for (;;) {
      const std::size_t taken = answer(bytes.subspan(used), c.out);
      if (taken == kBad) return false;
      if (taken == 0) break;
      used += taken;
    }
    std::vector<std::uint8_t> rest(bytes.begin() + static_cast<std::ptrdiff_t>(used), bytes.end());
    c.in = std::move(rest);
    if (c.out.empty()) return true;
    const bool sent = ::send(c.fd.get(), c.out.data(), c.out.size(), MSG_NOSIGNAL) ==
                      static_cast<ssize_t>(c.out.size());
    c.out.clear();
    return sent;
  }

  static constexpr std::size_t kBad = static_cast<std::size_t>(-1);

  // Answers the request at the start of `in` into `out`: the bytes it took,
  // 0 when it is incomplete, kBad for an unknown command.
  std::size_t answer(std::span<const std::uint8_t> in, std::vector<std::uint8_t>& out)
  {
    if (in.empty()) return 0;
    switch (in[0]) {
      case 0x00: {
        const std::uint8_t bits[4] = {0, 0, 0x07, 0xf8};  // 2040, as rngpoold says
        out.insert(out.end(), bits, bits + 4);
        return 1;
      }
      case 0x01:
      case 0x02: {
        if (in.size() < 2) return 0;
        if (in[0] == 0x01) out.push_back(in[1]);
        out.insert(out.end(), prefilled_.begin(), prefilled_.begin() + in[1]);
        return 2;
      }
      case 0x03: {
        if (in.size() < 4) return 0;
        const std::size_t size = 4 + std::size_t{in[3]};
        return in.size() < size ? 0 : size;
      }
      case 0x04: {
        const std::string pid = std::to_string(::getpid());
        out.push_back(static_cast<std::uint8_t>(pid.size()));
        out.insert(out.end(), pid.begin(), pid.end());
        return 1;
      }
      default:
        return kBad;
    }
  }

  Fd listener_;
  Fd epoll_;
  std::unordered_map<int, std::unique_ptr<Connection>> connections_;
  std::array<std::uint8_t, 255> prefilled_{};
  std::array<std::uint8_t, 4096> read_{};
};

}  // namespace

void run_bare_egd_server(const std::string& socket_path)
{
  BareEgdServer server(socket_path);
  ::sd_notify(0, "READY=1");
  server.serve();
}

}  // namespace rngpool::bench
