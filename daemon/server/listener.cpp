#include "server/listener.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "server/connection.hpp"
#include "server/log.hpp"
#include "server/systemd_glue.hpp"

namespace rngpool::server {

namespace {

using namespace std::chrono_literals;

[[noreturn]] void fail(const std::string& what, int error) {
  throw StartupError(what + ": " + errno_text(error));
}

// ---------------------------------------------------------------------------
// Binding --socket
// ---------------------------------------------------------------------------

sockaddr_un address_of(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);  // length checked by the options
  return address;
}

int unix_stream_socket() {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    fail("cannot create a Unix socket", errno);
  return fd;
}

// /run/rngpool does not survive a reboot; outside systemd nobody else
// creates it.  Only the last component is created: a missing /run would be
// a misconfiguration worth hearing about.
void ensure_parent_directory(const std::string& path) {
  auto parent = std::filesystem::path(path).parent_path();
  if (parent.empty() || ::mkdir(parent.c_str(), 0755) == 0 || errno == EEXIST)
    return;
  fail("cannot create directory " + parent.native() + " for --socket " + path, errno);
}

// A socket file left by a daemon that died without cleaning up refuses
// connections (ECONNREFUSED) and may go; one that accepts belongs to a live
// daemon and must not.
void clear_stale_socket(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0)
    return;
  if (!S_ISSOCK(st.st_mode))
    throw StartupError("--socket " + path + " exists and is not a socket; refusing to replace it");
  int probe = unix_stream_socket();
  sockaddr_un address = address_of(path);
  int result = ::connect(probe, reinterpret_cast<sockaddr*>(&address), sizeof address);
  int error = errno;
  ::close(probe);
  if (result == 0)
    throw StartupError("another daemon is already listening on " + path + "; refusing to start a second one");
  if (error != ECONNREFUSED)
    fail("cannot check the existing socket " + path, error);
  if (::unlink(path.c_str()) != 0)
    fail("cannot remove the stale socket " + path, errno);
  log(LogLevel::info, "removed stale socket ", path);
}

int bind_socket_file(const std::string& path, mode_t mode) {
  ensure_parent_directory(path);
  clear_stale_socket(path);
  int fd = unix_stream_socket();
  sockaddr_un address = address_of(path);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    int error = errno;
    ::close(fd);
    fail("cannot bind " + path, error);
  }
  // Set after bind, so the umask cannot narrow it.
  if (::chmod(path.c_str(), mode) != 0 || ::listen(fd, SOMAXCONN) != 0) {
    int error = errno;
    ::close(fd);
    ::unlink(path.c_str());
    fail("cannot set up " + path, error);
  }
  return fd;
}

bool transient_accept_error(const error_code& ec) {
  return ec == asio::error::no_descriptors || ec.value() == ENFILE || ec == asio::error::no_buffer_space ||
         ec == asio::error::no_memory;
}

}  // namespace

// ---------------------------------------------------------------------------
// Set-up and tear-down
// ---------------------------------------------------------------------------

Listener::Listener(asio::any_io_executor executor, const Options& options, ServerContext& context,
                   ConnectionSet& connections)
    : acceptor_(executor), context_(context), connections_(connections), backoff_(executor) {
  if (int fd = systemd_listen_fd(); fd >= 0) {
    acceptor_.assign(asio::local::stream_protocol(), fd);
    description_ = "the socket systemd passed in (fd " + std::to_string(fd) + "; --socket ignored)";
    return;
  }
  int fd = bind_socket_file(options.socket_path, options.socket_mode);
  struct stat st {};
  if (::stat(options.socket_path.c_str(), &st) == 0)
    file_ = SocketFile{options.socket_path, st.st_dev, st.st_ino};
  acceptor_.assign(asio::local::stream_protocol(), fd);
  description_ = options.socket_path;
}

// Only our own socket file: a second daemon started by mistake must not
// unlink the first one's socket when it exits.
Listener::~Listener() {
  struct stat st {};
  if (file_ && ::stat(file_->path.c_str(), &st) == 0 && st.st_dev == file_->device && st.st_ino == file_->inode)
    ::unlink(file_->path.c_str());
}

void Listener::start() { asio::co_spawn(acceptor_.get_executor(), accept_loop(), asio::detached); }

void Listener::stop() {
  error_code ignored;
  acceptor_.close(ignored);
  backoff_.cancel();
}

// ---------------------------------------------------------------------------
// Accepting
//
// Past --max-connections a client is accepted and closed at once, so it sees
// a prompt EOF rather than hanging in the backlog, and counted for STATUS.
// Running out of file descriptors is waited out briefly instead of spinning.
// ---------------------------------------------------------------------------

asio::awaitable<void> Listener::accept_loop() {
  while (acceptor_.is_open()) {
    error_code ec;
    UnixSocket socket = co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (!acceptor_.is_open())
      break;
    if (transient_accept_error(ec)) {
      log(LogLevel::warning, "accept failed: ", ec.message(), "; retrying in 100 ms");
      backoff_.expires_after(100ms);
      co_await backoff_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    if (ec) {
      log(LogLevel::debug, "accept failed: ", ec.message());
      continue;
    }
    take(std::move(socket));
  }
}

void Listener::take(UnixSocket socket) {
  ServerStats& stats = context_.stats;
  if (connections_.size() >= context_.limits.max_connections) {
    ++stats.connections_refused;
    if (stats.connections_refused % 1000 == 1)
      log(LogLevel::warning, "--max-connections ", context_.limits.max_connections, " reached; ",
          stats.connections_refused, " connection(s) refused so far");
    return;  // closed as `socket` goes out of scope
  }
  error_code ec;
  int fd = socket.release(ec);  // the connection serves it through the ClientPoller, not Asio's reactor
  if (ec) {
    log(LogLevel::warning, "cannot take over an accepted socket: ", ec.message());
    return;
  }
  ++stats.connections_accepted;
  Connection::start(std::make_shared<Connection>(fd, context_, connections_, next_id_++));
}

}  // namespace rngpool::server
