// STATUS payload: "key: value" lines, the same in binary and text mode.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rngpool::protocol {

using StatusReport = std::vector<std::pair<std::string, std::string>>;

// Keys are [a-z0-9_]+, values hold no newline.  Each entry is "key: value\n".
std::string format_status_report(const StatusReport& report);
// Inverse of format_status_report; nullopt on a malformed line.
std::optional<StatusReport> parse_status_report(std::string_view text);
std::optional<std::string> find_value(const StatusReport& report, std::string_view key);

}  // namespace rngpool::protocol
