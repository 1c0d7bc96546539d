// The binary protocol on one connection (PROTOCOL.md §3-§9).
#pragma once

#include <memory>

#include "serve/connection.hpp"

namespace rngpool::server {

// The binary protocol as the connection's session, from the first byte on.
std::unique_ptr<Session> binary_session(Connection& connection);

}  // namespace rngpool::server
