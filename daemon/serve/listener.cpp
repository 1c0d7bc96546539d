#include "serve/listener.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "serve/connection.hpp"
#include "runtime/log.hpp"

namespace rngpool::server {

namespace {

using namespace std::chrono_literals;

bool out_of_descriptors(const error_code& ec) {
  return ec == asio::error::no_descriptors || ec.value() == ENFILE;
}

bool transient_accept_error(const error_code& ec) {
  return ec == asio::error::no_descriptors || ec.value() == ENFILE || ec == asio::error::no_buffer_space ||
         ec == asio::error::no_memory;
}

}  // namespace

// ---------------------------------------------------------------------------
// Set-up and tear-down
// ---------------------------------------------------------------------------

Listener::Listener(asio::any_io_executor executor, const ListenOn& on, ServerContext& context,
                   ConnectionSet& connections)
    : acceptor_(executor),
      context_(context),
      connections_(connections),
      refusals_(executor),
      backoff_(executor),
      frontend_(on.frontend) {
  if (on.systemd_fd >= 0) {
    acceptor_.assign(asio::local::stream_protocol(), on.systemd_fd);
    description_ = "the socket systemd passed in (fd " + std::to_string(on.systemd_fd) + "; " +
                   std::string(on.option) + " ignored)";
    return;
  }
  const BoundSocket bound = bind_socket_file(on.path, on.mode);
  file_ = SocketFile{on.path, bound.device, bound.inode};
  acceptor_.assign(asio::local::stream_protocol(), bound.fd);
  description_ = on.path;
}

// Only our own socket file: a second daemon started by mistake must not
// unlink the first one's socket when it exits.
Listener::~Listener() {
  if (spare_ >= 0)
    ::close(spare_);
  struct stat st {};
  if (file_ && ::stat(file_->path.c_str(), &st) == 0 && st.st_dev == file_->device && st.st_ino == file_->inode)
    ::unlink(file_->path.c_str());
}

// Non-blocking, so that refuse_with_spare() never waits in accept(2).
void Listener::start() {
  acceptor_.non_blocking(true);
  spare_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  asio::co_spawn(acceptor_.get_executor(), accept_loop(), asio::detached);
}

void Listener::stop() {
  error_code ignored;
  acceptor_.close(ignored);
  backoff_.cancel();
}

// ---------------------------------------------------------------------------
// Accepting
//
// Past a limit a client is accepted, told BUSY and closed, so it does not
// hang in the backlog, and counted for STATUS.
// Running out of file descriptors is waited out briefly instead of spinning.
// ---------------------------------------------------------------------------

asio::awaitable<void> Listener::accept_loop() {
  while (acceptor_.is_open()) {
    error_code ec;
    UnixSocket socket = co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (!acceptor_.is_open())
      break;
    if (out_of_descriptors(ec) && refuse_with_spare())
      continue;
    if (transient_accept_error(ec)) {
      shortage(ec.message() + "; retrying every 100 ms");
      backoff_.expires_after(100ms);
      co_await backoff_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    if (ec) {
      log(LogLevel::debug, "accept failed: ", ec.message());
      continue;
    }
    shortage_over();
    take(std::move(socket));
  }
}

// ---------------------------------------------------------------------------
// Out of file descriptors
//
// accept(2) fails with EMFILE while the client waits in the backlog, which
// would leave it hanging there until its own timeout (issue 9 §9).  So the
// listener keeps one descriptor in reserve (/dev/null): it gives it up to
// accept the client, tells it BUSY at once and closes it, and takes the
// reserve back.  The warning is one line per shortage, and one more with the
// count when it is over, not one per attempt.
// ---------------------------------------------------------------------------

bool Listener::refuse_with_spare() {
  if (spare_ < 0)
    return false;
  ::close(spare_);
  int fd = ::accept4(acceptor_.native_handle(), nullptr, nullptr, SOCK_CLOEXEC);
  const int error = errno;
  if (fd >= 0) {
    shortage("out of file descriptors; refusing new clients with BUSY until some close");
    ++context_.stats.connections_refused;
    ++context_.stats.requests.refused[static_cast<std::size_t>(Refusal::out_of_descriptors)];
    refuse_now(fd, "the daemon is out of file descriptors; retry later");
  }
  spare_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  return fd >= 0 || error == EAGAIN || error == EWOULDBLOCK;
}

void Listener::shortage(const std::string& what) {
  if (shortage_count_++ == 0)
    log(LogLevel::warning, "accept: ", what);
}

void Listener::shortage_over() {
  if (shortage_count_ == 0)
    return;
  log(LogLevel::warning, "accepting again after ", shortage_count_, " failed or refused accept(s)");
  shortage_count_ = 0;
}

// ---------------------------------------------------------------------------
// Limits
//
// --max-connections bounds the daemon's descriptors and memory;
// --max-connections-per-uid keeps one local user, allowed or not, from
// holding every slot (issue 9 §5), so an allowed client still gets in while
// another uid floods.  Root is not limited per uid: it can stop the daemon
// anyway, and its tools (monitoring, benches) may open many connections.
// Either way the client is told BUSY before the close (busy_refusal.hpp).
// ---------------------------------------------------------------------------

std::string Listener::over_limit(const std::optional<ucred>& peer) const {
  const ServerLimits& limits = context_.limits;
  if (connections_.size() >= limits.max_connections)
    return "--max-connections " + std::to_string(limits.max_connections) + " reached; retry later";
  if (peer && peer->uid != 0 && connections_.of_uid(peer->uid) >= limits.max_connections_per_uid)
    return "--max-connections-per-uid " + std::to_string(limits.max_connections_per_uid) + " reached for uid " +
           std::to_string(peer->uid) + "; retry later";
  return {};
}

void Listener::count_refusal(const std::string& why, Refusal reason) {
  ServerStats& stats = context_.stats;
  ++stats.connections_refused;
  ++stats.requests.refused[static_cast<std::size_t>(reason)];
  if (stats.connections_refused % 1000 == 1)
    log(LogLevel::warning, why, "; ", stats.connections_refused, " connection(s) refused so far");
}

// An EGD client has no BUSY to be told (PROTOCOL.md §13.4): any byte sent
// would be taken for random data, so it is only closed, and counted.
void Listener::refuse_now(int fd, std::string_view why) {
  if (frontend_ == Frontend::egd) {
    ++context_.stats.egd.connections_refused;
    ::close(fd);
    return;
  }
  BusyRefusals::refuse_now(fd, why);
}

void Listener::take(UnixSocket socket) {
  const std::optional<ucred> peer = peer_credentials(socket.native_handle());
  if (std::string why = over_limit(peer); !why.empty()) {
    count_refusal(why, connections_.size() >= context_.limits.max_connections ? Refusal::max_connections
                                                                              : Refusal::max_connections_per_uid);
    if (frontend_ == Frontend::egd)
      ++context_.stats.egd.connections_refused;
    else
      refusals_.refuse(std::move(socket), why);
    return;  // an EGD socket closes here
  }
  error_code ec;
  int fd = socket.release(ec);  // the connection serves it through the ClientPoller, not Asio's reactor
  if (ec) {
    log(LogLevel::warning, "cannot take over an accepted socket: ", ec.message());
    return;
  }
  ++context_.stats.connections_accepted;
  if (frontend_ == Frontend::egd)
    ++context_.stats.egd.connections;
  Connection::start(std::make_shared<Connection>(fd, context_, connections_, context_.stats.connections_accepted, peer, frontend_));
}

}  // namespace rngpool::server
