#include "runtime/log.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace rngpool::server {

// ---------------------------------------------------------------------------
// Destination
//
// Decided once at start: whether stderr is the journal stream systemd gave
// us.  A child process or a redirect (2>file) inherits JOURNAL_STREAM but not
// the same stderr, hence the dev:ino comparison rather than the variable's
// mere presence (systemd.exec(5), $JOURNAL_STREAM).
// ---------------------------------------------------------------------------

namespace {

std::atomic<LogLevel> threshold{LogLevel::info};
std::atomic<bool> to_journal{false};

bool stderr_is_journal() {
  const char* stream = std::getenv("JOURNAL_STREAM");
  struct stat st {};
  if (stream == nullptr || fstat(STDERR_FILENO, &st) != 0)
    return false;
  unsigned long long dev = 0, ino = 0;
  if (std::sscanf(stream, "%llu:%llu", &dev, &ino) != 2)
    return false;
  return dev == st.st_dev && ino == st.st_ino;
}

int syslog_priority(LogLevel level) {
  static constexpr std::array<int, 4> priorities{3, 4, 6, 7};  // LOG_ERR .. LOG_DEBUG
  return priorities[static_cast<std::size_t>(level)];
}

constexpr std::array<std::string_view, 4> kLevelNames{"error", "warning", "info", "debug"};

}  // namespace

std::optional<LogLevel> log_level_from_name(std::string_view name) {
  for (std::size_t i = 0; i < kLevelNames.size(); ++i)
    if (kLevelNames[i] == name)
      return static_cast<LogLevel>(i);
  return std::nullopt;
}

std::string_view to_string(LogLevel level) { return kLevelNames[static_cast<std::size_t>(level)]; }

void log_init(LogLevel level) {
  threshold = level;
  to_journal = stderr_is_journal();
}

void log_set_level(LogLevel level) { threshold = level; }

bool log_enabled(LogLevel level) { return level <= threshold.load(std::memory_order_relaxed); }

// ---------------------------------------------------------------------------
// Writing
//
// One write(2) per line so lines from the io thread and the hwrng thread
// never interleave; a short write to a full pipe is retried, a failed one
// dropped (there is nowhere left to report it).
// ---------------------------------------------------------------------------

namespace {

void write_all(std::string_view text) {
  while (!text.empty()) {
    ssize_t n = ::write(STDERR_FILENO, text.data(), text.size());
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace

void log_line(LogLevel level, std::string_view message) {
  std::string line;
  if (to_journal) {
    line = "<" + std::to_string(syslog_priority(level)) + ">";
  } else {
    line = "rngpoold: ";
    line += kLevelNames[static_cast<std::size_t>(level)];
    line += ": ";
  }
  line += message;
  line += '\n';
  write_all(line);
}

std::string errno_text(int error) {
  std::array<char, 256> buffer{};
  // GNU strerror_r returns the message, which may not be `buffer`.
  return strerror_r(error, buffer.data(), buffer.size());
}

}  // namespace rngpool::server
