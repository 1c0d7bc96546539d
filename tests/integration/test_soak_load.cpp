// Load and soak (issue 5 §2): 512 concurrent clients with mixed request sizes
// for a bounded time.  Zero errors, every reply exactly the requested length,
// no 16-byte block repeated across replies, and daemon memory flat after
// warm-up.
//
// The clients are nonblocking sockets driven by one epoll loop, so the test
// costs one thread however many clients it runs.  Duration: 20 s, or
// RNGPOOL_SOAK_SECONDS for a longer profile (ctest's 60 s timeout applies to
// the default run only).
#include "robustness_support.hpp"

#include <sys/epoll.h>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <random>
#include <thread>

using namespace rngpool;
using namespace rngpool::test;
using namespace rngpool::test::robustness;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kClients = 512;
constexpr std::size_t kPrefix = 4096;  // bytes of each reply compared for repeats
constexpr auto kStallLimit = 30s;      // no byte for this long on a busy client is a hang
constexpr auto kTick = 100ms;          // how often memory and stalls are checked

std::chrono::seconds soak_duration() {
  const char* text = std::getenv("RNGPOOL_SOAK_SECONDS");
  if (text == nullptr || *text == '\0') return 20s;
  return std::chrono::seconds(std::max(1, std::atoi(text)));
}

// 1 B ... 1 MiB, most requests small as in real use, most bytes in large ones.
std::uint32_t request_size(std::mt19937& rng) {
  auto between = [&](std::uint32_t low, std::uint32_t high) {
    return std::uniform_int_distribution<std::uint32_t>(low, high)(rng);
  };
  switch (between(0, 9)) {
    case 0: case 1: case 2: case 3: return between(1, 64);
    case 4: case 5: case 6: return between(65, 4096);
    case 7: case 8: return between(4097, 65536);
    default: return between(65537, 1u << 20);
  }
}

struct Client {
  RawSocket socket;
  std::uint32_t id = 0;
  std::uint32_t count = 0;
  std::vector<std::uint8_t> request;  // bytes not yet sent
  std::array<std::uint8_t, protocol::kHeaderSize> header{};
  std::size_t header_got = 0;
  std::size_t payload_got = 0;
  std::vector<std::uint8_t> prefix;   // the reply's first kPrefix bytes
  bool busy = false;
  Clock::time_point last_progress = Clock::now();
};

class Soak {
 public:
  explicit Soak(const std::string& socket_path) : epoll_(epoll_create1(EPOLL_CLOEXEC)) {
    if (epoll_ < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
    clients_.reserve(kClients);
    for (int i = 0; i < kClients; ++i) {
      clients_.push_back(Client{RawSocket(socket_path, true)});
      epoll_event event{EPOLLIN, {.u64 = static_cast<std::uint64_t>(i)}};
      epoll_ctl(epoll_, EPOLL_CTL_ADD, clients_.back().socket.fd(), &event);
    }
  }
  ~Soak() { close(epoll_); }

  // Runs until `until`, then lets every outstanding reply finish.
  void run(Clock::time_point until) {
    for (auto& client : clients_) start_request(client);
    auto next_tick = Clock::now() + kTick;
    std::vector<epoll_event> events(kClients);
    while (errors_.size() < 20) {
      const bool winding_down = Clock::now() >= until;
      if (winding_down && busy_clients() == 0) return;
      int n = epoll_wait(epoll_, events.data(), kClients, 100);
      const auto working = Clock::now();
      for (int i = 0; i < n; ++i) {
        auto& client = clients_[events[static_cast<std::size_t>(i)].data.u64];
        if (events[static_cast<std::size_t>(i)].events & EPOLLOUT) send_pending(client);
        if (events[static_cast<std::size_t>(i)].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) receive(client, !winding_down);
      }
      forgive_our_pause(Clock::now() - working);
      if (Clock::now() >= next_tick) {
        next_tick += kTick;
        check_stalls();
      }
    }
  }

  std::uint64_t replies() const { return replies_; }
  std::uint64_t bytes() const { return bytes_; }
  const std::vector<std::string>& errors() const { return errors_; }
  BlockRepeats& blocks() { return blocks_; }

 private:
  std::size_t busy_clients() const {
    return static_cast<std::size_t>(std::count_if(clients_.begin(), clients_.end(), [](auto& c) { return c.busy; }));
  }

  void fail(Client& client, const std::string& what) {
    errors_.push_back("client " + std::to_string(&client - clients_.data()) + ", request " +
                      std::to_string(client.id) + " (" + std::to_string(client.count) + " bytes): " + what);
    client.busy = false;
    epoll_ctl(epoll_, EPOLL_CTL_DEL, client.socket.fd(), nullptr);
  }

  void start_request(Client& client) {
    client.count = request_size(rng_);
    client.request = protocol::encode_get_random(++client.id, client.count);
    client.header_got = client.payload_got = 0;
    client.prefix.clear();
    client.busy = true;
    client.last_progress = Clock::now();
    send_pending(client);
  }

  void send_pending(Client& client) {
    ssize_t n = ::send(client.socket.fd(), client.request.data(), client.request.size(), MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN) return fail(client, std::string("send: ") + std::strerror(errno));
    if (n > 0) client.request.erase(client.request.begin(), client.request.begin() + n);
    epoll_event event{client.request.empty() ? std::uint32_t{EPOLLIN} : std::uint32_t{EPOLLIN | EPOLLOUT},
                      {.u64 = static_cast<std::uint64_t>(&client - clients_.data())}};
    epoll_ctl(epoll_, EPOLL_CTL_MOD, client.socket.fd(), &event);
  }

  void receive(Client& client, bool go_on) {
    ssize_t n = recv(client.socket.fd(), scratch_.data(), scratch_.size(), 0);
    if (n < 0 && errno == EAGAIN) return;
    if (n < 0) return fail(client, std::string("recv: ") + std::strerror(errno));
    if (n == 0) return fail(client, "the daemon closed the connection");
    if (!client.busy) return fail(client, "bytes nobody asked for");
    client.last_progress = Clock::now();
    std::span<const std::uint8_t> bytes(scratch_.data(), static_cast<std::size_t>(n));
    if (client.header_got < protocol::kHeaderSize) {
      auto take = std::min(bytes.size(), protocol::kHeaderSize - client.header_got);
      std::copy_n(bytes.begin(), take, client.header.begin() + static_cast<std::ptrdiff_t>(client.header_got));
      client.header_got += take;
      bytes = bytes.subspan(take);
      if (client.header_got < protocol::kHeaderSize) return;
      if (!header_is_right(client)) return;
    }
    if (client.payload_got + bytes.size() > client.count) return fail(client, "more bytes than requested");
    auto keep = std::min(bytes.size(), kPrefix - std::min(kPrefix, client.payload_got));
    client.prefix.insert(client.prefix.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(keep));
    client.payload_got += bytes.size();
    if (client.payload_got < client.count) return;
    blocks_.add(client.prefix);
    ++replies_;
    bytes_ += client.count;
    client.busy = false;
    if (go_on) start_request(client);
  }

  bool header_is_right(Client& client) {
    auto decoded = protocol::decode_reply_header(client.header);
    if (auto* error = std::get_if<protocol::DecodeError>(&decoded)) {
      fail(client, "malformed reply header: " + error->reason);
      return false;
    }
    auto& header = std::get<protocol::Header>(decoded);
    if (header.status != protocol::Status::ok || header.request_id != client.id || header.length != client.count) {
      fail(client, std::string(protocol::status_name(header.status)) + ", id " + std::to_string(header.request_id) +
                       ", length " + std::to_string(header.length));
      return false;
    }
    return true;
  }

  // The repeat check sorts its millions of blocks once it is full, which
  // takes seconds under ASan; replies wait in the sockets meanwhile, and
  // that pause is ours, not a daemon stall.
  void forgive_our_pause(Clock::duration paused) {
    if (paused < kTick) return;
    for (auto& client : clients_) client.last_progress += paused;
  }

  void check_stalls() {
    auto now = Clock::now();
    for (auto& client : clients_)
      if (client.busy && now - client.last_progress > kStallLimit) fail(client, "no reply byte for 30 s");
  }

  int epoll_;
  std::vector<Client> clients_;
  std::mt19937 rng_{std::random_device{}()};
  std::vector<std::uint8_t> scratch_ = std::vector<std::uint8_t>(1 << 16);
  BlockRepeats blocks_{kPrefix};
  std::vector<std::string> errors_;
  std::uint64_t replies_ = 0;
  std::uint64_t bytes_ = 0;
};

}  // namespace

TEST_CASE("soak: 512 concurrent clients, mixed sizes, bounded time", "[soak]") {
  const auto duration = soak_duration();
  WARN("soak duration " << duration.count() << " s (RNGPOOL_SOAK_SECONDS to change)");
  TestDaemon daemon;
  Soak soak(daemon.socket_path());

  // Memory is bounded by design: the output chunks the clients pin are
  // capped by --max-output-memory (32 MiB by default).  A leak is growth
  // over time, so after warm-up the peak of the second half is compared with
  // the peak of the first: one sample against a peak would only measure how
  // many clients happened to hold a chunk at that instant.
  // The samples come from a thread of their own: the clients' loop pauses
  // for seconds under ASan (forgive_our_pause), and a window without a
  // sample would prove nothing.
  const std::uint64_t rss_idle = rss_kib(daemon.pid());
  const auto start = Clock::now();
  const auto warm_at = start + std::max<Clock::duration>(duration / 4, 2s);
  const auto middle = warm_at + (start + duration - warm_at) / 2;
  std::uint64_t rss_peak = 0;
  std::uint64_t rss_peak_first = 0;
  std::uint64_t rss_peak_second = 0;
  std::jthread sampler([&](std::stop_token stop) {
    while (!stop.stop_requested()) {
      const auto rss = rss_kib(daemon.pid());
      const auto now = Clock::now();
      rss_peak = std::max(rss_peak, rss);
      if (now >= warm_at) {
        auto& window = now < middle ? rss_peak_first : rss_peak_second;
        window = std::max(window, rss);
      }
      std::this_thread::sleep_for(kTick);
    }
  });
  soak.run(start + duration);
  sampler.request_stop();
  sampler.join();
  const auto rss_end = rss_kib(daemon.pid());

  std::string errors;
  for (const auto& error : soak.errors()) errors += error + "\n";
  INFO(soak.replies() << " replies, " << soak.bytes() << " bytes; errors:\n" << errors << daemon.log());
  CHECK(soak.errors().empty());
  CHECK(soak.replies() > static_cast<std::uint64_t>(kClients));

  INFO(soak.blocks().blocks() << " 16-byte blocks compared" << (soak.blocks().capped() ? " (the later ones looked up only)" : ""));
  CHECK(soak.blocks().repeats() == 0);

  // ASan's quarantine keeps freed chunks for a while, so it gets a larger
  // allowance.
  const std::uint64_t output_cap_kib = 32 * 1024;
  const std::uint64_t margin_kib = kSanitized ? 64 * 1024 : 8 * 1024;
  INFO("daemon VmRSS " << rss_idle << " KiB idle, peak " << rss_peak << " KiB; after warm-up, peak "
                       << rss_peak_first << " KiB in the first half, " << rss_peak_second
                       << " KiB in the second, " << rss_end << " KiB at the end");
  REQUIRE(rss_idle > 0);
  REQUIRE(rss_peak_first > 0);
  REQUIRE(rss_peak_second > 0);
  CHECK(rss_peak <= rss_idle + output_cap_kib + margin_kib);
  CHECK(rss_peak_second <= rss_peak_first + margin_kib);
  CHECK(rss_end <= rss_peak_first + margin_kib);

  auto report = status_report(daemon.socket_path());
  CHECK(status_number(report, "requests_served") >= soak.replies());
  CHECK(status_number(report, "bytes_served") >= soak.bytes());
}
