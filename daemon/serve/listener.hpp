// A listening socket and its accept loop: one for the main socket, one more
// for the EGD socket when there is one (--egd-socket, PROTOCOL.md §13).
//
// Either systemd hands the socket over (socket activation, the path option
// is then ignored) or the daemon binds the path itself (socket_file.hpp: the
// directory, the mode, what a previous run left behind).  Both listeners
// share one ConnectionSet, so --max-connections and
// --max-connections-per-uid count the clients of both sockets together.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "runtime/asio.hpp"
#include "serve/busy_refusal.hpp"
#include "serve/connection_set.hpp"
#include "serve/server_context.hpp"
#include "serve/socket_file.hpp"

namespace rngpool::server {

// What one listener listens on.
struct ListenOn {
  Frontend frontend;
  int systemd_fd = -1;  // the socket systemd passed for it, or -1: bind `path`
  std::string path;
  mode_t mode = 0666;
  std::string_view option;  // "--socket" or "--egd-socket", for the log
};

class Listener {
 public:
  // Takes the systemd socket or binds the path; throws StartupError.
  Listener(asio::any_io_executor executor, const ListenOn& on, ServerContext& context, ConnectionSet& connections);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  void start();
  void stop();  // stops accepting; open connections are not touched
  const std::string& description() const { return description_; }

 private:
  struct SocketFile {
    std::string path;
    dev_t device;
    ino_t inode;
  };

  asio::awaitable<void> accept_loop();
  void take(UnixSocket socket);
  // Why a client with `peer` may not have a connection; empty: it may.
  std::string over_limit(const std::optional<ucred>& peer) const;
  void count_refusal(const std::string& why, Refusal reason);
  bool refuse_with_spare();
  void refuse_now(int fd, std::string_view why);
  void shortage(const std::string& what);
  void shortage_over();

  asio::local::stream_protocol::acceptor acceptor_;
  ServerContext& context_;
  ConnectionSet& connections_;
  BusyRefusals refusals_;
  std::optional<SocketFile> file_;  // the socket file we created, removed on exit
  std::string description_;
  asio::steady_timer backoff_;
  Frontend frontend_;
  int spare_ = -1;                 // the descriptor kept for refusing a client at the limit
  std::uint64_t shortage_count_ = 0;  // accepts failed or refused since the last that worked
};

}  // namespace rngpool::server
