// The listening socket and the accept loop.
//
// Either systemd hands the socket over (socket activation, --socket is then
// ignored) or the daemon binds --socket itself.  Binding itself means dealing
// with what a previous run left behind: a socket file nobody answers on is
// stale and removed, but one a live daemon answers on is refused -- two
// daemons on one path would silently split the clients (issue 3 §3).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include "server/asio.hpp"
#include "server/connection_set.hpp"
#include "server/options.hpp"
#include "server/server_context.hpp"

namespace rngpool::server {

// The daemon cannot start (exit 1); the message says why.
struct StartupError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Listener {
 public:
  // Takes the systemd socket or binds --socket; throws StartupError.
  Listener(asio::any_io_executor executor, const Options& options, ServerContext& context,
           ConnectionSet& connections);
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

  asio::local::stream_protocol::acceptor acceptor_;
  ServerContext& context_;
  ConnectionSet& connections_;
  std::optional<SocketFile> file_;  // the socket file we created, removed on exit
  std::string description_;
  asio::steady_timer backoff_;
  std::uint64_t next_id_ = 1;
};

}  // namespace rngpool::server
