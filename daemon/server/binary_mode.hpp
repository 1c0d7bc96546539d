// The binary protocol on one connection (PROTOCOL.md §3-§9).
#pragma once

#include <cstdint>
#include <span>

#include "server/connection.hpp"

namespace rngpool::server {

// Serves binary requests, starting with the bytes already read, until the
// client closes, a fatal error, or shutdown.
asio::awaitable<void> serve_binary(Connection& connection, std::span<const std::uint8_t> first);

}  // namespace rngpool::server
