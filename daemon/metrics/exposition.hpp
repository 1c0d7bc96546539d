// The Prometheus text exposition format (version 0.0.4) of a Snapshot.
//
// Pure: a function of the snapshot alone, so the unit tests pin every line
// and `promtool check metrics` can judge the output without a daemon.
// Names follow Prometheus' conventions: the rngpool_ prefix, base units
// (bytes, seconds), _total on counters, state sets as one gauge per state
// with a `state` label, and every known label combination present from the
// start (at 0), so rate() and increase() see a series before its first
// event.  README.md › Monitoring lists them.
#pragma once

#include <string>
#include <string_view>

#include "metrics/snapshot.hpp"

namespace rngpool::server::metrics {

// The Content-Type of render()'s output.
inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

std::string render(const Snapshot& snapshot);

}  // namespace rngpool::server::metrics
