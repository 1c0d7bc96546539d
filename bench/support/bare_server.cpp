#include "support/bare_server.hpp"

#include "rngpool/test/unix_socket.hpp"
#include "support/keystream.hpp"

#include <rngpool/protocol/frame.hpp>

#include <array>
#include <cerrno>
#include <cstdint>
#include <deque>
#include <memory>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>
#include <unordered_map>
#include <vector>

namespace rngpool::bench {

namespace {

namespace proto = rngpool::protocol;
using test::Fd;
using test::listen_unix;
using test::set_nonblocking;
using test::throw_errno;

struct Connection {
  Fd fd;
  proto::RequestDecoder decoder;
  std::deque<proto::Request> pending;  // decoded, not yet answered
  std::vector<std::uint8_t> out;       // bytes ready to send
  std::size_t out_sent = 0;
  std::uint64_t keystream_left = 0;    // bulk payload still to generate
  bool watching_out = false;
  bool runnable = false;               // in the round-robin of bulk senders
};

class BareServer {
 public:
  explicit BareServer(const std::string& socket_path) : listener_(listen_unix(socket_path))
  {
    ::getrandom(prefilled_.data(), prefilled_.size(), 0);
    epoll_ = Fd(::epoll_create1(EPOLL_CLOEXEC));
    if (!epoll_) throw_errno("epoll_create1");
    set_nonblocking(listener_.get());
    watch(listener_.get(), EPOLLIN, EPOLL_CTL_ADD);
  }

  // Bulk senders that still have room in their socket take turns, one chunk
  // each per round, between polls that do not block while any is waiting.
  // Waiting for EPOLLOUT instead would cost half the throughput: a Unix
  // socket reports writable only when under a quarter of its buffer is
  // queued, so a writer woken by it always finds the reader starved.
  [[noreturn]] void serve()
  {
    std::array<epoll_event, 256> events;
    for (;;) {
      const int timeout = runnable_.empty() ? -1 : 0;
      const int n = ::epoll_wait(epoll_.get(), events.data(), static_cast<int>(events.size()), timeout);
      for (int i = 0; i < n; ++i) {
        const int fd = events[static_cast<std::size_t>(i)].data.fd;
        if (fd == listener_.get()) {
          accept_all();
          continue;
        }
        serve_one(fd, (events[static_cast<std::size_t>(i)].events & EPOLLIN) != 0, false);
      }
      for (std::size_t turns = runnable_.size(); turns > 0; --turns) {
        const int fd = runnable_.front();
        runnable_.pop_front();
        serve_one(fd, false, true);
      }
    }
  }

 private:
  void watch(int fd, std::uint32_t events, int op)
  {
    epoll_event event{};
    event.events = events;
    event.data.fd = fd;
    if (::epoll_ctl(epoll_.get(), op, fd, &event) != 0) throw_errno("epoll_ctl");
  }

  void serve_one(int fd, bool readable, bool its_turn)
  {
    auto it = connections_.find(fd);
    if (it == connections_.end()) return;
    Connection& c = *it->second;
    if (its_turn) c.runnable = false;
    if (!(readable ? on_readable(c) : pump(c))) connections_.erase(it);
  }

  void accept_all()
  {
    for (;;) {
      const int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      auto connection = std::make_unique<Connection>();
      connection->fd = Fd(fd);
      watch(fd, EPOLLIN, EPOLL_CTL_ADD);
      connections_.emplace(fd, std::move(connection));
    }
  }

  bool on_readable(Connection& c)
  {
    const ssize_t n = ::read(c.fd.get(), in_.data(), in_.size());
    if (n == 0) return false;
    if (n < 0) return errno == EAGAIN || errno == EINTR;
    std::span<const std::uint8_t> bytes(in_.data(), static_cast<std::size_t>(n));
    while (!bytes.empty()) {
      const std::size_t taken = c.decoder.feed(bytes);
      bytes = bytes.subspan(taken);
      bool decoded = false;
      for (;;) {
        auto result = c.decoder.next();
        if (auto* request = std::get_if<proto::Request>(&result)) {
          c.pending.push_back(*request);
          decoded = true;
        } else if (std::holds_alternative<proto::DecodeError>(result)) {
          return false;  // the daemon replies first; the baseline need not
        } else {
          break;
        }
      }
      if (taken == 0 && !decoded) return false;  // a decoder that stalls is an error, not a spin
    }
    return pump(c);
  }

  // Appends the header of the next reply, and its payload when it is small.
  void start_reply(Connection& c, const proto::Request& request)
  {
    const std::uint32_t length = request.opcode == proto::Opcode::get_random ? request.count : 0;
    const auto header = proto::reply_header(request.opcode, request.header.request_id, proto::Status::ok, length);
    const std::size_t at = c.out.size();
    c.out.resize(at + proto::kHeaderSize);
    proto::encode_header(header, proto::HeaderBytes(c.out.data() + at, proto::kHeaderSize));
    if (length <= kPrefilledReply) {
      c.out.insert(c.out.end(), prefilled_.begin(), prefilled_.begin() + length);
    } else {
      c.keystream_left = length;
    }
  }

  // Sends what is ready and prepares more; one keystream chunk per turn.
  // Returns false when the connection is done for.
  bool pump(Connection& c)
  {
    bool chunk_sent = false;
    for (;;) {
      if (c.out_sent < c.out.size()) {
        // MSG_NOSIGNAL: a client that leaves mid-stream must not kill the server.
        const ssize_t n = ::send(c.fd.get(), c.out.data() + c.out_sent, c.out.size() - c.out_sent, MSG_NOSIGNAL);
        if (n < 0) {
          if (errno != EAGAIN && errno != EINTR) return false;
          return want_out(c, true);
        }
        c.out_sent += static_cast<std::size_t>(n);
        if (c.out_sent < c.out.size()) return want_out(c, true);
      }
      c.out.clear();
      c.out_sent = 0;
      if (c.keystream_left > 0) {
        if (chunk_sent) {  // let other connections have a turn
          if (!c.runnable) runnable_.push_back(c.fd.get());
          c.runnable = true;
          return want_out(c, false);
        }
        const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(c.keystream_left, kChunk));
        c.out.resize(n);
        keystream_.fill(c.out);
        c.keystream_left -= n;
        chunk_sent = true;
        continue;
      }
      if (c.pending.empty()) return want_out(c, false);
      // Batch every small reply that is ready into one write.
      while (!c.pending.empty() && c.keystream_left == 0) {
        start_reply(c, c.pending.front());
        c.pending.pop_front();
      }
    }
  }

  bool want_out(Connection& c, bool on)
  {
    if (c.watching_out != on) {
      watch(c.fd.get(), on ? (EPOLLIN | EPOLLOUT) : EPOLLIN, EPOLL_CTL_MOD);
      c.watching_out = on;
    }
    return true;
  }

  Fd listener_;
  Fd epoll_;
  std::unordered_map<int, std::unique_ptr<Connection>> connections_;
  std::deque<int> runnable_;
  std::array<std::uint8_t, kPrefilledReply> prefilled_{};
  std::array<std::uint8_t, 64 * 1024> in_{};
  Keystream keystream_;
};

}  // namespace

void run_bare_server(const std::string& socket_path)
{
  BareServer server(socket_path);
  // The daemon's own call, so both start-up figures end at the same datagram.
  ::sd_notify(0, "READY=1");
  server.serve();
}

}  // namespace rngpool::bench
