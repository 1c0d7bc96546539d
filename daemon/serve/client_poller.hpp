// Readiness of client sockets, answered in batches.
//
// Why the daemon does not leave client sockets to Asio's reactor: a 32-byte
// request is mostly system-call cost, and through Asio each one also costs a
// reactor operation, a trip through the scheduler queue and a coroutine
// resumption -- measured, 32-byte requests at 16-256 connections reached only
// 0.69-0.79x a bare epoll server (issue 5 asks for 0.8x).  So client sockets
// live in an epoll set of their own, level-triggered, each registered once:
// one wake-up of the io_context runs every ready client's plain-call fast
// path (Connection::ready()), and the interest only changes (epoll_ctl) when
// a client has to wait for something other than its next request.  The
// io_context sees the poller's epoll descriptor and nothing else, and keeps
// the timers, signals, the listener and the coroutines of the slow path.
//
// A client that is not interested in anything is not in the set at all: a
// peer's hang-up is reported whether asked for or not (epoll(7)), and level
// triggering would report it on every wake-up while its connection is busy
// elsewhere.
#pragma once

#include <sys/epoll.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "runtime/asio.hpp"

namespace rngpool::server {

class ClientPoller {
 public:
  enum class Interest : std::uint32_t { none = 0, read = EPOLLIN, write = EPOLLOUT };

  class Client {
   public:
    // The interest is met, or the socket failed or hung up.  Called from the
    // io thread; may change any client's interest, its own included.
    virtual void ready() = 0;

   protected:
    ~Client() = default;
  };

  explicit ClientPoller(asio::any_io_executor executor);
  ClientPoller(const ClientPoller&) = delete;
  ClientPoller& operator=(const ClientPoller&) = delete;

  // Moves `fd` from interest `from` to `to`; none means out of the set.
  // Fails only when epoll refuses to add (out of memory, or past
  // fs.epoll.max_user_watches); leaving the set always succeeds.
  error_code change(int fd, Client& client, Interest from, Interest to);

  asio::any_io_executor executor() { return epoll_.get_executor(); }

  // The clock, read once per wake-up while a batch runs: every deadline a
  // batch moves shares one read.
  SteadyClock::time_point now() const { return batch_time_ ? *batch_time_ : SteadyClock::now(); }

 private:
  static constexpr std::size_t kBatch = 256;

  void arm();
  void on_ready(const error_code& ec);

  asio::posix::stream_descriptor epoll_;
  std::size_t watched_ = 0;  // sockets in the set; none: no wait keeps io_context::run() going
  bool armed_ = false;
  std::optional<SteadyClock::time_point> batch_time_;
  std::array<epoll_event, kBatch> events_{};
};

}  // namespace rngpool::server
