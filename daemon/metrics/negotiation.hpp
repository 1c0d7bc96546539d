// Which exposition format a scraper gets, from its Accept header.
//
// Pure, so the unit tests pin it without a socket.  RFC 9110 §12.5.1:
// the header is a list of media ranges with optional q weights; the most
// specific range that matches an offered type gives that type its q.  The
// offers are the text format 0.0.4 (text/plain; version=0.0.4;
// charset=utf-8) and OpenMetrics 1.0.0 (application/openmetrics-text;
// version=1.0.0; charset=utf-8).
//
// OpenMetrics is chosen only when a range names application/openmetrics-text
// itself (no version parameter, or version=1.0.0) with a q above 0 and at
// least as high as the text format's; everything else -- no Accept, "*/*",
// a header that does not parse, both refused -- gets the text format 0.0.4,
// what /metrics served before OpenMetrics and what curl and browsers
// (which send "*/*") expect to read.  Prometheus 2.x asks for
// "application/openmetrics-text;version=1.0.0,...,text/plain;version=0.0.4;q=0.5,..."
// and gets OpenMetrics.
#pragma once

#include <string_view>

#include "metrics/exposition.hpp"

namespace rngpool::server::metrics {

// `accept`: the request's Accept field values joined with ", " (RFC 9110
// §5.3), empty when it has none.
Format negotiate(std::string_view accept);

}  // namespace rngpool::server::metrics
