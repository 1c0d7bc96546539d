// CLI output.
#include "output.hpp"

#include <cerrno>
#include <cstdio>
#include <string>
#include <system_error>

#include <unistd.h>

namespace rngpool::cli {

void write_all(int fd, std::span<const std::uint8_t> bytes) {
  while (!bytes.empty()) {
    const ssize_t written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "cannot write output");
    }
    bytes = bytes.subspan(static_cast<std::size_t>(written));
  }
}

void write_line(std::string_view text) {
  std::string line(text);
  line.push_back('\n');
  write_all(STDOUT_FILENO, std::span(reinterpret_cast<const std::uint8_t*>(line.data()), line.size()));
}

// ---------------------------------------------------------------------------
// Progress
//
// Redrawn only when the percentage changes: a terminal fed a line per
// megabyte would slow the copy it reports on.
// ---------------------------------------------------------------------------

void Progress::advance(std::uint64_t done) {
  if (!enabled_ || total_ == 0) return;
  const int percent = static_cast<int>(done * 100 / total_);
  if (percent == last_percent_) return;
  last_percent_ = percent;
  constexpr int kWidth = 40;
  const int filled = percent * kWidth / 100;
  std::fprintf(stderr, "\r[%s%s] %3d%%  %.1f/%.1f MiB", std::string(static_cast<std::size_t>(filled), '#').c_str(),
               std::string(static_cast<std::size_t>(kWidth - filled), ' ').c_str(), percent,
               static_cast<double>(done) / (1 << 20), static_cast<double>(total_) / (1 << 20));
  std::fflush(stderr);
}

void Progress::finish() {
  if (enabled_ && last_percent_ >= 0) std::fputc('\n', stderr);
}

}  // namespace rngpool::cli
