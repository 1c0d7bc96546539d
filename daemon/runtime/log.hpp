// Logging to stderr, for the journal or for a terminal.
//
// Under systemd, stderr is a stream into the journal and systemd says so in
// JOURNAL_STREAM=<dev>:<inode>; a "<N>" prefix then carries the syslog
// priority (sd-daemon(3)).  Anywhere else a person reads the lines, so they
// say "rngpoold: warning: ..." instead.  Each line is one write(2), so the
// hwrng thread can log without a lock.
#pragma once

#include <optional>
#include <sstream>
#include <string>
#include <string_view>

namespace rngpool::server {

enum class LogLevel { error, warning, info, debug };

std::optional<LogLevel> log_level_from_name(std::string_view name);
std::string_view to_string(LogLevel level);

// Reads JOURNAL_STREAM once; call before any thread starts.
void log_init(LogLevel threshold);
// A new --log-level at run time (SIGHUP); safe from any thread.
void log_set_level(LogLevel threshold);
bool log_enabled(LogLevel level);
void log_line(LogLevel level, std::string_view message);

// log(LogLevel::info, "listening on ", path): the parts are only formatted
// when the level is enabled.
template <typename... Parts>
void log(LogLevel level, const Parts&... parts) {
  if (!log_enabled(level))
    return;
  std::ostringstream message;
  (message << ... << parts);
  log_line(level, message.str());
}

// strerror(3) text for an errno value, thread-safe.
std::string errno_text(int error);

}  // namespace rngpool::server
