// systemd integration (issue 3 §4): socket activation and sd_notify.
//
// Type=notify: READY=1 once the state leaves `starting`: after the first
// seed, and under --require-hwrng once the hwrng is in the key too, so units
// ordered after rngpoold never get a daemon that would make them wait.
// Under --require-hwrng a daemon that knows it cannot serve (state
// `failed`: the hwrng absent, unreadable, exhausted or broken) sends READY=1
// as well, with STATUS= saying why: the start job does not hang, and
// `systemctl status` shows the cause instead of a start timeout (issue 9
// item 7).  STATUS= carries that one human line; WATCHDOG=1 comes from the
// io thread, so a wedged event loop gets the daemon restarted; STOPPING=1 on
// shutdown.
// Without NOTIFY_SOCKET (not under systemd) all of this is skipped.
#pragma once

#include <string>

#include "runtime/asio.hpp"
#include "serve/server_context.hpp"

namespace rngpool::server {

// The listening sockets systemd passed (sd_listen_fds_with_names), read once,
// -1 where none: the one named "egd" (rngpoold-egd.socket's
// FileDescriptorName=) is the EGD socket, the one named "metrics"
// (rngpoold-metrics.socket) the HTTP metrics listener, a listening TCP
// socket; the other one (rngpoold.socket, named after its unit) the main
// socket.  Throws StartupError unless the main socket is among them and each
// kind is passed at most once as the right kind of socket.
struct SystemdSockets {
  int main = -1;
  int egd = -1;
  int metrics = -1;
};
const SystemdSockets& systemd_sockets();

class SystemdGlue {
 public:
  SystemdGlue(asio::any_io_executor executor, const ServerContext& context);

  void start();
  // After any state change: READY=1 the first time the state is not starting, and
  // STATUS= whenever the line changed.
  void state_changed();
  // Around a SIGHUP reload: RELOADING=1, then READY=1 with a fresh STATUS=
  // (sd_notify(3)).  Nothing before the first READY=1: a reload while
  // starting must not announce a readiness the daemon has not reached.
  void reloading();
  void reloaded();
  void stopping();

 private:
  asio::awaitable<void> heartbeat();
  void send_status();

  const ServerContext& context_;
  asio::steady_timer timer_;
  bool enabled_;
  bool ready_sent_ = false;
  bool stopping_ = false;
  std::string last_status_;
};

}  // namespace rngpool::server
