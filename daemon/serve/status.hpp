// What the daemon says about itself: the STATUS report (both protocol modes),
// the HEALTH line, and the one-line systemd STATUS=.
#pragma once

#include <string>

#include "rngpool/protocol/status_report.hpp"
#include "serve/server_context.hpp"

namespace rngpool::server {

protocol::StatusReport status_report(const ServerContext& context);
// "OK", "DEGRADED <reason>" or "FAILED <reason>", without a newline.
std::string health_line(const EntropyService& entropy);
// For sd_notify STATUS=: state, hwrng state, clients.
std::string status_line(const ServerContext& context);

}  // namespace rngpool::server
