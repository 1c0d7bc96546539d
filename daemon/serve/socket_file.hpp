// The socket file --socket names: its directory, its mode, and what a
// previous run left behind (issue 3 §3, issue 9 §3).
//
// The daemon usually runs as root or as its own user, and the socket's
// directory may be shared: so nothing here follows a name twice.  The mode
// is given to the socket as bind(2) creates it (through the umask), never by
// a chmod(2) after it, which a user who can write the directory could aim at
// any file by swapping in a symlink between the two calls.  A directory that
// such a user can write is refused altogether, as sshd's StrictModes does:
// whoever can write it can also replace the socket with their own, and the
// daemon's clients would talk to them.
#pragma once

#include <sys/types.h>

#include <stdexcept>
#include <string>

namespace rngpool::server {

// The daemon cannot start; the message says why.  exit_code 1: something in
// the way (socket in use, bind failure); 2: a setting the daemon refuses,
// like a bad option value.
struct StartupError : std::runtime_error {
  explicit StartupError(const std::string& what, int code = 1) : std::runtime_error(what), exit_code(code) {}
  int exit_code;
};

// The socket directory the daemon creates (only the last component) gets this
// mode whatever the umask: reachable by every client the socket mode lets in.
inline constexpr mode_t kSocketDirectoryMode = 0755;

struct BoundSocket {
  int fd;  // listening
  dev_t device;
  ino_t inode;
};

// Creates the directory if missing, checks it, clears a stale socket, binds
// `path` with exactly `mode` and listens; throws StartupError.
BoundSocket bind_socket_file(const std::string& path, mode_t mode);

}  // namespace rngpool::server
