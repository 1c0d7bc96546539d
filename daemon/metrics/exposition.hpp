// The exposition of a Snapshot, in the Prometheus text format 0.0.4 or in
// OpenMetrics 1.0.0.
//
// Pure: a function of the snapshot alone, so the unit tests pin every line
// and `promtool check metrics` (0.0.4) and an OpenMetrics parser can judge
// the output without a daemon.  Names follow Prometheus' conventions: the
// rngpool_ prefix, base units (bytes, seconds), _total on counters, state
// sets as one gauge per state with a `state` label, and every known label
// combination present from the start (at 0), so rate() and increase() see
// a series before its first event.  README.md › Monitoring lists them.
//
// One list of families, two writers.  The formats differ only in how a
// family is written: OpenMetrics names a counter's family without _total
// (its samples keep it) and build_info's as the info family rngpool_build,
// puts TYPE, UNIT and HELP in that order, escapes '"' in HELP too, writes
// `le` as a canonical number ("32.0", "1.048576e+06") and ends with
// "# EOF".  The sample names, labels (but for `le`'s spelling) and values
// are the same in both.
#pragma once

#include <string>
#include <string_view>

#include "metrics/snapshot.hpp"

namespace rngpool::server::metrics {

enum class Format {
  text,         // Prometheus text exposition format 0.0.4
  openmetrics,  // OpenMetrics 1.0.0 text format
};

// The Content-Type of render(snapshot, format)'s output.
std::string_view content_type(Format format);

std::string render(const Snapshot& snapshot, Format format = Format::text);

// Text as it goes between a label value's quotes (both formats: backslash,
// double quote and line feed escaped) or after a HELP line's family name
// (0.0.4: backslash and line feed only; OpenMetrics: all three).  The
// HELP texts are constants today; this says what becomes of any.
enum class Escaping { label_value, help_text, help_openmetrics };
std::string escape(std::string_view text, Escaping escaping);

}  // namespace rngpool::server::metrics
