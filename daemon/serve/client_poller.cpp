#include "serve/client_poller.hpp"

#include <cerrno>

namespace rngpool::server {

namespace {

int new_epoll_set() {
  int fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0)
    throw boost::system::system_error(errno, boost::system::system_category(), "epoll_create1");
  return fd;
}

int epoll_operation(ClientPoller::Interest from, ClientPoller::Interest to) {
  using Interest = ClientPoller::Interest;
  if (from == Interest::none)
    return EPOLL_CTL_ADD;
  return to == Interest::none ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;
}

}  // namespace

ClientPoller::ClientPoller(asio::any_io_executor executor) : epoll_(executor, new_epoll_set()) {}

error_code ClientPoller::change(int fd, Client& client, Interest from, Interest to) {
  if (from == to)
    return {};
  epoll_event event{};
  event.events = static_cast<std::uint32_t>(to);
  event.data.ptr = &client;
  if (::epoll_ctl(epoll_.native_handle(), epoll_operation(from, to), fd, &event) != 0 && to != Interest::none)
    return {errno, boost::system::system_category()};
  if (from == Interest::none)
    ++watched_;
  else if (to == Interest::none)
    --watched_;
  if (watched_ > 0)
    arm();
  else if (armed_ && !batch_time_)
    epoll_.cancel();  // lets io_context::run() return once nothing else is pending
  return {};
}

// ---------------------------------------------------------------------------
// Batches
//
// The io_context reports the set readable; one epoll_wait(2) that does not
// block collects up to kBatch ready clients, and each runs its fast path in
// turn.  Level triggering means nothing is lost when more are ready than a
// batch holds: they are reported again on the next wake-up, which the re-arm
// asks for at once.
//
// A client's ready() never destroys a client (a connection ends in its
// coroutine, which runs later), so every event of the batch still points at
// a live client; one that left the set earlier in the batch ignores it.
// ---------------------------------------------------------------------------

void ClientPoller::arm() {
  if (armed_ || batch_time_)
    return;
  armed_ = true;
  epoll_.async_wait(asio::posix::stream_descriptor::wait_read, [this](const error_code& ec) { on_ready(ec); });
}

void ClientPoller::on_ready(const error_code& ec) {
  armed_ = false;
  if (!ec) {
    int n = ::epoll_wait(epoll_.native_handle(), events_.data(), static_cast<int>(kBatch), 0);
    batch_time_ = SteadyClock::now();
    for (int i = 0; i < n; ++i)
      static_cast<Client*>(events_[static_cast<std::size_t>(i)].data.ptr)->ready();
    batch_time_.reset();
  }
  if (watched_ > 0)
    arm();
}

}  // namespace rngpool::server
