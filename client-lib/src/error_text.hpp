// Builders for rngpool::Error, so every message is worded in one place.
#pragma once

#include "rngpool/error.hpp"

#include <chrono>
#include <string>

namespace rngpool::detail {

std::string errno_name(int err);
std::string errno_text(int err);
Error connect_error(const std::string& path, int err);
Error io_error(const std::string& path, int err);  // err 0: end of stream
Error timeout_error(const std::string& path, std::chrono::milliseconds limit);
Error protocol_error(const std::string& path, const std::string& reason);
Error daemon_error(std::string status, const std::string& message);

}  // namespace rngpool::detail
