#include "host/systemd_glue.hpp"

#include <sys/socket.h>
#include <systemd/sd-daemon.h>

#include <algorithm>
#include <string_view>
#include <cstdlib>
#include <ctime>

#include "serve/listener.hpp"
#include "runtime/log.hpp"
#include "serve/status.hpp"

namespace rngpool::server {

using namespace std::chrono_literals;

// ---------------------------------------------------------------------------
// Socket activation
//
// sd_listen_fds(1) also unsets LISTEN_FDS/LISTEN_PID, so nothing we might
// start later believes the socket is its own.
// ---------------------------------------------------------------------------

namespace {

// The socket named "metrics" (FileDescriptorName= in rngpoold-metrics.socket)
// is the HTTP listener; any other is the Unix socket, and there is one.
void take_named(SystemdSockets& sockets, int fd, std::string_view name) {
  if (name == "metrics") {
    if (sockets.metrics >= 0)
      throw StartupError("systemd passed two sockets named metrics; rngpoold takes one");
    if (sd_is_socket_inet(fd, 0, SOCK_STREAM, 1, 0) <= 0)
      throw StartupError("the socket systemd passed as metrics is not a listening TCP socket");
    sockets.metrics = fd;
    return;
  }
  if (sockets.main >= 0)
    throw StartupError("systemd passed more than one socket besides metrics; rngpoold takes exactly one");
  if (sd_is_socket_unix(fd, SOCK_STREAM, 1, nullptr, 0) <= 0)
    throw StartupError("the socket systemd passed is not a listening Unix stream socket");
  sockets.main = fd;
}

SystemdSockets collect_sockets() {
  char** names = nullptr;
  const int count = sd_listen_fds_with_names(1, &names);
  if (count < 0)
    throw StartupError("sd_listen_fds failed: " + errno_text(-count));
  SystemdSockets sockets;
  struct Names {
    char** names;
    int count;
    ~Names() {
      for (int i = 0; names && i < count; ++i)
        std::free(names[i]);
      std::free(names);
    }
  } owned{names, count};
  for (int i = 0; i < count; ++i)
    take_named(sockets, SD_LISTEN_FDS_START + i, names && names[i] ? names[i] : "");
  return sockets;
}

}  // namespace

const SystemdSockets& systemd_sockets() {
  static const SystemdSockets sockets = collect_sockets();
  return sockets;
}

int systemd_listen_fd() { return systemd_sockets().main; }

// ---------------------------------------------------------------------------
// sd_notify
//
// The heartbeat sends WATCHDOG=1 at half of WATCHDOG_USEC (sd_watchdog_enabled(3)
// recommends that margin) and refreshes STATUS= for the client count, which
// changes too often to report on every connection.
// ---------------------------------------------------------------------------

namespace {

constexpr auto kStatusRefresh = 5s;

std::chrono::microseconds watchdog_interval() {
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0)
    return std::chrono::microseconds::zero();
  return std::chrono::microseconds(usec);
}

}  // namespace

SystemdGlue::SystemdGlue(asio::any_io_executor executor, const ServerContext& context)
    : context_(context), timer_(executor), enabled_(std::getenv("NOTIFY_SOCKET") != nullptr) {}

void SystemdGlue::start() {
  if (enabled_)
    asio::co_spawn(timer_.get_executor(), heartbeat(), asio::detached);
}

void SystemdGlue::state_changed() {
  if (!enabled_ || stopping_)
    return;
  if (!ready_sent_ && context_.entropy.state() != DaemonState::starting) {
    ready_sent_ = true;
    last_status_ = status_line(context_);
    sd_notifyf(0, "READY=1\nSTATUS=%s", last_status_.c_str());
    return;
  }
  send_status();
}

void SystemdGlue::send_status() {
  std::string line = status_line(context_);
  if (line == last_status_)
    return;
  last_status_ = line;
  sd_notifyf(0, "STATUS=%s", line.c_str());
}

// MONOTONIC_USEC is what systemd 253's Type=notify-reload asks for with
// RELOADING=1; Type=notify (the unit's, for systemd 252) ignores it.
void SystemdGlue::reloading() {
  if (!enabled_ || stopping_ || !ready_sent_)
    return;
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  const auto usec = static_cast<unsigned long long>(now.tv_sec) * 1'000'000ull +
                    static_cast<unsigned long long>(now.tv_nsec) / 1000ull;
  sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading the configuration", usec);
}

void SystemdGlue::reloaded() {
  if (!enabled_ || stopping_ || !ready_sent_)
    return;
  last_status_ = status_line(context_);
  sd_notifyf(0, "READY=1\nSTATUS=%s", last_status_.c_str());
}

void SystemdGlue::stopping() {
  stopping_ = true;
  timer_.cancel();
  if (enabled_)
    sd_notify(0, "STOPPING=1\nSTATUS=shutting down");
}

asio::awaitable<void> SystemdGlue::heartbeat() {
  auto watchdog = watchdog_interval();
  auto period = watchdog.count() > 0
                    ? std::min<SteadyClock::duration>(watchdog / 2, kStatusRefresh)
                    : SteadyClock::duration(kStatusRefresh);
  if (watchdog.count() > 0)
    log(LogLevel::debug, "systemd watchdog every ", watchdog.count() / 2, " us");
  while (!stopping_) {
    if (watchdog.count() > 0)
      sd_notify(0, "WATCHDOG=1");
    send_status();
    timer_.expires_after(period);
    error_code ec;
    co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

}  // namespace rngpool::server
