// Unix-domain sockets by path: the daemon's socket, the NOTIFY_SOCKET
// listener, the bench's bare server, and raw clients that misbehave.
//
// Every one of them needs the same sockaddr_un with the same length check
// (sun_path holds 108 bytes, and a longer path would silently name another
// socket), so the address is built in one place.
#pragma once

#include "rngpool/test/fd.hpp"

#include <sys/un.h>

#include <string>

namespace rngpool::test {

// Throws std::invalid_argument when `path` does not fit sun_path.
sockaddr_un unix_address(const std::string& path);
// A connected, blocking SOCK_STREAM socket; throws std::system_error when
// nobody listens.
Fd connect_unix(const std::string& path);
// A listening SOCK_STREAM socket at `path` (a stale file is removed first),
// with the kernel's largest backlog so a burst of connects never stalls.
Fd listen_unix(const std::string& path);
// A SOCK_DGRAM socket bound to `path`, for receiving sd_notify datagrams.
Fd bind_datagram(const std::string& path);
void set_nonblocking(int fd);

}  // namespace rngpool::test
