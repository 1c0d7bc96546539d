#include "serve/socket_file.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "runtime/log.hpp"

namespace rngpool::server {

namespace {

[[noreturn]] void fail(const std::string& what, int error) {
  throw StartupError(what + ": " + errno_text(error));
}

std::string octal(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

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

// ---------------------------------------------------------------------------
// Modes through the umask
//
// mkdir(2) and bind(2) create their file with the mode asked for minus the
// umask, in one step: setting the umask to the complement of the mode wanted
// gives exactly that mode with no window in which the file exists with
// another one, and no second look-up of the name.  umask(2) is process-wide;
// this runs at start-up, before the daemon starts its helper threads, and
// nothing else creates files meanwhile.
// ---------------------------------------------------------------------------

class ExactMode {
 public:
  explicit ExactMode(mode_t mode) : saved_(::umask(~mode & 0777)) {}
  ~ExactMode() { ::umask(saved_); }
  ExactMode(const ExactMode&) = delete;
  ExactMode& operator=(const ExactMode&) = delete;

 private:
  mode_t saved_;
};

// ---------------------------------------------------------------------------
// The directory
//
// /run/rngpool does not survive a reboot; outside systemd nobody else
// creates it.  Only the last component is created: a missing /run would be
// a misconfiguration worth hearing about.
//
// Who may write the directory decides who may replace the socket.  Safe are
// the daemon's own user and root; anybody else (another owner, or group or
// world write permission) only with the sticky bit, which keeps them from
// renaming or removing what they do not own (/tmp).
// ---------------------------------------------------------------------------

std::filesystem::path directory_of(const std::string& path) {
  auto parent = std::filesystem::path(path).parent_path();
  return parent.empty() ? std::filesystem::path(".") : parent;
}

void ensure_directory(const std::filesystem::path& dir, const std::string& path) {
  ExactMode exact(kSocketDirectoryMode);
  if (::mkdir(dir.c_str(), kSocketDirectoryMode) == 0) {
    log(LogLevel::info, "created ", dir.native(), " (mode ", octal(kSocketDirectoryMode), ")");
    return;
  }
  if (errno != EEXIST)
    fail("cannot create directory " + dir.native() + " for --socket " + path, errno);
}

// Empty when others cannot replace what the daemon puts into `st`'s directory.
std::string writable_by_others(const struct stat& st) {
  if (st.st_mode & S_ISVTX)
    return {};
  if (st.st_uid != 0 && st.st_uid != ::geteuid())
    return "is owned by uid " + std::to_string(st.st_uid);
  if (st.st_mode & (S_IWGRP | S_IWOTH))
    return "has mode " + octal(st.st_mode) + ": writable by group or others";
  return {};
}

// Every directory from / down to the socket's own: one that others may
// write lets them rename a directory below it and put their own in its
// place, as sshd's StrictModes reasons for the path to authorized_keys.
void check_directory(const std::filesystem::path& dir, const std::string& path) {
  for (auto at = std::filesystem::absolute(dir).lexically_normal();; at = at.parent_path()) {
    struct stat st {};
    if (::stat(at.c_str(), &st) != 0)
      fail("cannot check directory " + at.native() + " for --socket " + path, errno);
    if (!S_ISDIR(st.st_mode))
      throw StartupError("--socket " + path + ": " + at.native() + " is not a directory", 2);
    if (std::string why = writable_by_others(st); !why.empty())
      throw StartupError("--socket " + path + ": directory " + at.native() + " " + why +
                             " and not sticky, so another user could replace the socket; refusing it "
                             "(make it writable only by root or rngpoold's user, or set the sticky bit)",
                         2);
    if (at.parent_path() == at)  // "/", the last one
      break;
  }
}

// ---------------------------------------------------------------------------
// What a previous run left
//
// A socket file left by a daemon that died without cleaning up refuses
// connections (ECONNREFUSED) and may go; one that accepts belongs to a live
// daemon and must not.
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// Binding
//
// The lstat after bind only reads: it records which file is ours (removed on
// exit) and catches a mode the umask did not decide -- a default ACL on the
// directory replaces the umask -- which would otherwise leave clients out,
// or let too many in, silently.
// ---------------------------------------------------------------------------

int bind_with_mode(const std::string& path, mode_t mode) {
  int fd = unix_stream_socket();
  sockaddr_un address = address_of(path);
  ExactMode exact(mode);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    int error = errno;
    ::close(fd);
    fail("cannot bind " + path, error);
  }
  return fd;
}

[[noreturn]] void give_up(int fd, const std::string& path, const std::string& why) {
  ::close(fd);
  ::unlink(path.c_str());
  throw StartupError("cannot set up " + path + ": " + why);
}

}  // namespace

BoundSocket bind_socket_file(const std::string& path, mode_t mode) {
  const auto dir = directory_of(path);
  ensure_directory(dir, path);
  check_directory(dir, path);
  clear_stale_socket(path);
  int fd = bind_with_mode(path, mode);
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0)
    give_up(fd, path, errno_text(errno));
  if ((st.st_mode & 07777) != mode)
    give_up(fd, path, "it has mode " + octal(st.st_mode) + " instead of --socket-mode " + octal(mode) +
                          " (a default ACL on the directory?)");
  if (::listen(fd, SOMAXCONN) != 0)
    give_up(fd, path, errno_text(errno));
  return BoundSocket{fd, st.st_dev, st.st_ino};
}

}  // namespace rngpool::server
