// The text protocol on one connection, for a person at nc -U (PROTOCOL.md §10).
#pragma once

#include <cstdint>
#include <span>

#include "server/connection.hpp"

namespace rngpool::server {

// Serves text commands, starting with the bytes already read, until the
// client closes or QUITs, a fatal error, or shutdown.
asio::awaitable<void> serve_text(Connection& connection, std::span<const std::uint8_t> first);

}  // namespace rngpool::server
