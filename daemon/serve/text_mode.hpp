// The text protocol on one connection, for a person at nc -U (PROTOCOL.md §10).
#pragma once

#include <memory>

#include "serve/connection.hpp"

namespace rngpool::server {

// The text protocol as the connection's session, from the first byte on.
std::unique_ptr<Session> text_session(Connection& connection);

}  // namespace rngpool::server
