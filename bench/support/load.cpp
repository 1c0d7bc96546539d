#include "support/load.hpp"

#include "rngpool/test/unix_socket.hpp"

#include <rngpool/protocol/frame.hpp>

#include <array>
#include <barrier>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <sys/epoll.h>
#include <thread>
#include <unistd.h>

namespace rngpool::bench {

namespace {

namespace proto = rngpool::protocol;
using test::connect_unix;
using test::Fd;
using test::set_nonblocking;
using test::throw_errno;
using test::write_all;
using Clock = std::chrono::steady_clock;

struct Window {
  Clock::time_point from;
  Clock::time_point until;
  bool contains(Clock::time_point t) const { return t >= from && t < until; }
};

struct Connection {
  Fd fd;
  std::size_t group = 0;
  std::uint32_t id = 0;
  std::uint32_t size = 0;
  bool record_latency = false;
  std::vector<std::uint8_t> request;  // the encoded GET_RANDOM, sent again and again
  std::array<std::uint8_t, proto::kHeaderSize> header{};
  std::size_t header_fill = 0;
  std::uint64_t payload_left = 0;
  std::deque<Clock::time_point> sent;  // send times, when recording latency
  std::vector<std::uint8_t> out;
  std::size_t out_sent = 0;
  bool watching_out = false;
};

struct Assignment {
  std::size_t group;
  std::uint32_t id;
};

// Checks one reply header against what this connection asked for.
void check_reply(const Connection& c)
{
  auto decoded = proto::decode_reply_header(std::span<const std::uint8_t, proto::kHeaderSize>(c.header));
  if (auto* error = std::get_if<proto::DecodeError>(&decoded)) {
    throw std::runtime_error("bad reply header: " + error->reason);
  }
  const auto& header = std::get<proto::Header>(decoded);
  if (header.status != proto::Status::ok) {
    throw std::runtime_error("server replied " + std::string(proto::status_name(header.status)) +
                             " to GET_RANDOM " + std::to_string(c.size));
  }
  if (header.request_id != c.id) throw std::runtime_error("reply to another request id");
  if (header.length != c.size) {
    throw std::runtime_error("reply of " + std::to_string(header.length) + " bytes to GET_RANDOM " +
                             std::to_string(c.size));
  }
}

class LoadThread {
 public:
  LoadThread(const LoadPlan& plan, const std::vector<Assignment>& assignments) : groups_(plan.groups.size())
  {
    epoll_ = Fd(::epoll_create1(EPOLL_CLOEXEC));
    if (!epoll_) throw_errno("epoll_create1");
    for (const auto& a : assignments) {
      auto c = std::make_unique<Connection>();
      const auto& group = plan.groups[a.group];
      c->fd = connect_unix(plan.socket);
      set_nonblocking(c->fd.get());
      c->group = a.group;
      c->id = a.id;
      c->size = group.request_size;
      c->record_latency = group.record_latency;
      c->request = proto::encode_get_random(a.id, group.request_size);
      watch(*c, EPOLL_CTL_ADD, false);
      depth_.push_back(group.depth);
      connections_.push_back(std::move(c));
    }
  }

  void run(Window window)
  {
    const auto start = Clock::now();
    for (std::size_t i = 0; i < connections_.size(); ++i) {
      for (int k = 0; k < depth_[i]; ++k) send_request(*connections_[i], start);
      flush(*connections_[i]);
    }
    std::array<epoll_event, 512> events;
    for (;;) {
      const int n = ::epoll_wait(epoll_.get(), events.data(), static_cast<int>(events.size()), 5);
      if (n < 0 && errno != EINTR) throw_errno("epoll_wait");
      const auto now = Clock::now();
      if (now >= window.until) return;
      for (int i = 0; i < n; ++i) {
        const auto& event = events[static_cast<std::size_t>(i)];
        auto& c = *static_cast<Connection*>(event.data.ptr);
        if (event.events & (EPOLLIN | EPOLLHUP | EPOLLERR)) on_readable(c, now, window);
        flush(c);
      }
    }
  }

  const std::vector<GroupResult>& results() const { return groups_; }

 private:
  void watch(Connection& c, int op, bool out)
  {
    epoll_event event{};
    event.events = EPOLLIN | (out ? EPOLLOUT : 0u);
    event.data.ptr = &c;
    if (::epoll_ctl(epoll_.get(), op, c.fd.get(), &event) != 0) throw_errno("epoll_ctl");
    c.watching_out = out;
  }

  void send_request(Connection& c, Clock::time_point now)
  {
    c.out.insert(c.out.end(), c.request.begin(), c.request.end());
    if (c.record_latency) c.sent.push_back(now);
  }

  void flush(Connection& c)
  {
    while (c.out_sent < c.out.size()) {
      const ssize_t n = ::write(c.fd.get(), c.out.data() + c.out_sent, c.out.size() - c.out_sent);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN) throw_errno("write request");
        if (!c.watching_out) watch(c, EPOLL_CTL_MOD, true);
        return;
      }
      c.out_sent += static_cast<std::size_t>(n);
    }
    c.out.clear();
    c.out_sent = 0;
    if (c.watching_out) watch(c, EPOLL_CTL_MOD, false);
  }

  void on_readable(Connection& c, Clock::time_point now, const Window& window)
  {
    const ssize_t n = ::read(c.fd.get(), buffer_.data(), buffer_.size());
    if (n == 0) throw std::runtime_error("server closed a connection");
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) return;
      throw_errno("read reply");
    }
    auto& result = groups_[c.group];
    const bool measuring = window.contains(now);
    std::span<const std::uint8_t> bytes(buffer_.data(), static_cast<std::size_t>(n));
    while (!bytes.empty()) {
      if (c.header_fill < c.header.size()) {
        const std::size_t k = std::min(c.header.size() - c.header_fill, bytes.size());
        std::memcpy(c.header.data() + c.header_fill, bytes.data(), k);
        c.header_fill += k;
        bytes = bytes.subspan(k);
        if (c.header_fill < c.header.size()) break;
        check_reply(c);
        c.payload_left = c.size;
      }
      const std::size_t k = static_cast<std::size_t>(std::min<std::uint64_t>(c.payload_left, bytes.size()));
      c.payload_left -= k;
      bytes = bytes.subspan(k);
      if (measuring) result.payload_bytes += k;
      if (c.payload_left > 0) break;
      // A reply is complete.
      c.header_fill = 0;
      if (measuring) ++result.replies;
      if (c.record_latency) {
        const auto sent = c.sent.front();
        c.sent.pop_front();
        if (sent >= window.from && measuring) {
          result.latencies_us.push_back(std::chrono::duration<double, std::micro>(now - sent).count());
        }
      }
      send_request(c, now);
    }
  }

  Fd epoll_;
  std::vector<std::unique_ptr<Connection>> connections_;
  std::vector<int> depth_;
  std::vector<GroupResult> groups_;
  // Small enough that one bulk read does not hold up a small reply for long.
  std::array<std::uint8_t, 64 * 1024> buffer_{};
};

void merge(std::vector<GroupResult>& into, const std::vector<GroupResult>& from)
{
  for (std::size_t g = 0; g < into.size(); ++g) {
    into[g].replies += from[g].replies;
    into[g].payload_bytes += from[g].payload_bytes;
    into[g].latencies_us.insert(into[g].latencies_us.end(), from[g].latencies_us.begin(),
                                from[g].latencies_us.end());
  }
}

}  // namespace

double LoadResult::replies_per_second(std::size_t group) const
{
  return static_cast<double>(groups.at(group).replies) / seconds;
}

double LoadResult::megabytes_per_second(std::size_t group) const
{
  return static_cast<double>(groups.at(group).payload_bytes) / seconds / 1e6;
}

LoadResult run_load(const LoadPlan& plan)
{
  const std::size_t threads = static_cast<std::size_t>(std::max(1, plan.threads));
  std::vector<std::vector<Assignment>> assignments(threads);
  std::uint32_t next_id = 1;
  std::size_t next_thread = 0;
  for (std::size_t g = 0; g < plan.groups.size(); ++g) {
    for (int i = 0; i < plan.groups[g].connections; ++i) {
      assignments[next_thread++ % threads].push_back({g, next_id++});
    }
  }

  // All threads connect first; the window opens when the last is ready.
  Window window;
  auto open_window = [&]() noexcept {
    window.from = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(plan.warmup_seconds));
    window.until = window.from + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(plan.seconds));
  };
  std::barrier sync(static_cast<std::ptrdiff_t>(threads), open_window);
  std::mutex mutex;
  std::exception_ptr failure;
  LoadResult result;
  result.seconds = plan.seconds;
  result.groups.resize(plan.groups.size());

  std::vector<std::jthread> workers;
  for (std::size_t t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      std::unique_ptr<LoadThread> load;
      try {
        load = std::make_unique<LoadThread>(plan, assignments[t]);
      } catch (...) {
        std::lock_guard lock(mutex);
        failure = std::current_exception();
        sync.arrive_and_drop();
        return;
      }
      sync.arrive_and_wait();
      try {
        load->run(window);
        std::lock_guard lock(mutex);
        merge(result.groups, load->results());
      } catch (...) {
        std::lock_guard lock(mutex);
        failure = std::current_exception();
      }
    });
  }
  workers.clear();  // joins
  if (failure) std::rethrow_exception(failure);
  return result;
}

std::vector<Fd> open_idle_connections(const std::string& socket, int count)
{
  constexpr std::uint32_t kSize = 32;
  std::vector<Fd> connections;
  for (int i = 0; i < count; ++i) {
    connections.push_back(connect_unix(socket));
    const auto request = proto::encode_get_random(static_cast<std::uint32_t>(i), kSize);
    write_all(connections.back().get(), request.data(), request.size());
  }
  // Replies are read after all requests went out, so the server sees all
  // connections at once, as it would from many independent clients.
  std::array<std::uint8_t, proto::kHeaderSize + kSize> reply{};
  for (auto& fd : connections) {
    std::size_t got = 0;
    while (got < reply.size()) {
      const ssize_t n = ::read(fd.get(), reply.data() + got, reply.size() - got);
      if (n <= 0) {
        if (n < 0 && errno == EINTR) continue;
        throw std::runtime_error("idle connection: no reply to its first request");
      }
      got += static_cast<std::size_t>(n);
    }
  }
  return connections;
}

}  // namespace rngpool::bench
