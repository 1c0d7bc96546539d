// The EGD protocol on one connection of the EGD socket (PROTOCOL.md §13),
// for QEMU's rng-egd backend and libvirt's <backend model='egd'>.
#pragma once

#include <memory>

#include "serve/connection.hpp"

namespace rngpool::server {

std::unique_ptr<Session> egd_session(Connection& connection);

}  // namespace rngpool::server
