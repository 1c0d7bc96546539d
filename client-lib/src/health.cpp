// HEALTH: the daemon's own verdict, as the `health` key of STATUS.
//
// rngpoold condenses its state into OK, DEGRADED <reason> or FAILED <reason>
// in one place, which both the text command HEALTH and the STATUS key
// `health` (PROTOCOL.md §5.2) print; the client reads the key, over the
// binary connection it already has.
#include "daemon_link.hpp"

#include "error_text.hpp"

#include "rngpool/protocol/status_report.hpp"

#include <string_view>

namespace rngpool::detail {

namespace {

std::pair<std::string_view, std::string_view> split_word(std::string_view text) {
  const auto space = text.find(' ');
  if (space == std::string_view::npos) return {text, {}};
  return {text.substr(0, space), text.substr(space + 1)};
}

}  // namespace

Health DaemonLink::health() {
  const auto line = protocol::find_value(status(), "health");
  if (!line) throw protocol_error(options_.socket_path, "STATUS has no health key (rngpoold older than this client?)");
  const auto [verdict, reason] = split_word(*line);
  if (verdict == "OK") return {Health::State::ok, std::string(reason)};
  if (verdict == "DEGRADED") return {Health::State::degraded, std::string(reason)};
  if (verdict == "FAILED") return {Health::State::failed, std::string(reason)};
  throw protocol_error(options_.socket_path, "unexpected health verdict \"" + *line + "\"");
}

}  // namespace rngpool::detail
