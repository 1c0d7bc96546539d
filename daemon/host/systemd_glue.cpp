#include "host/systemd_glue.hpp"

#include <sys/socket.h>
#include <systemd/sd-daemon.h>

#include <algorithm>
#include <string_view>
#include <cstdlib>
#include <ctime>
#include <string_view>

#include "serve/listener.hpp"
#include "serve/socket_file.hpp"
#include "runtime/log.hpp"
#include "serve/status.hpp"

namespace rngpool::server {

using namespace std::chrono_literals;

// ---------------------------------------------------------------------------
// Socket activation
//
// sd_listen_fds_with_names(1) also unsets LISTEN_FDS/LISTEN_PID/LISTEN_FDNAMES,
// so nothing we might start later believes the sockets are its own.  Names
// other than "egd" and "metrics" all mean the main socket: systemd names a socket after its
// unit unless FileDescriptorName= says otherwise, and systemd-socket-activate
// without --fdname passes "unknown"; a daemon started with one socket keeps
// working whatever it is called.
// ---------------------------------------------------------------------------

namespace {

constexpr std::string_view kEgdName = "egd";
constexpr std::string_view kMetricsName = "metrics";

struct FdNames {
  char** names = nullptr;
  ~FdNames() {
    if (names)
      for (char** name = names; *name; ++name)
        std::free(*name);
    std::free(names);
  }
};

void take_fd(int& slot, int fd, std::string_view name) {
  if (name == kMetricsName) {
    if (sd_is_socket_inet(fd, 0, SOCK_STREAM, 1, 0) <= 0)
      throw StartupError("the socket systemd passed as metrics is not a listening TCP socket");
  } else if (sd_is_socket_unix(fd, SOCK_STREAM, 1, nullptr, 0) <= 0) {
    throw StartupError("the socket systemd passed as '" + std::string(name) +
                       "' is not a listening Unix stream socket");
  }
  if (slot >= 0)
    throw StartupError("systemd passed two " +
                       std::string(name == kEgdName ? "EGD" : name == kMetricsName ? "metrics" : "main") +
                       " sockets; rngpoold takes one main socket and at most one each named 'egd' and 'metrics'");
  slot = fd;
}

int& slot_for(SystemdSockets& sockets, std::string_view name) {
  if (name == kEgdName) return sockets.egd;
  if (name == kMetricsName) return sockets.metrics;
  return sockets.main;
}

SystemdSockets collect_sockets() {
  FdNames names;
  int count = sd_listen_fds_with_names(1, &names.names);
  if (count < 0)
    throw StartupError("sd_listen_fds failed: " + errno_text(-count));
  SystemdSockets sockets;
  for (int i = 0; i < count; ++i) {
    const std::string_view name = names.names && names.names[i] ? names.names[i] : "unknown";
    take_fd(slot_for(sockets, name), SD_LISTEN_FDS_START + i, name);
  }
  if (count > 0 && sockets.main < 0)
    throw StartupError("systemd passed no main socket (rngpoold.socket), only ones named 'egd' or 'metrics'");
  return sockets;
}

}  // namespace

// Read once: sd_listen_fds unsets $LISTEN_FDS, and both the listeners and
// the metrics server ask.
const SystemdSockets& systemd_sockets() {
  static const SystemdSockets sockets = collect_sockets();
  return sockets;
}

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
