// Writing the CLI's output: all of it, and with a progress bar when asked.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace rngpool::cli {

void write_all(int fd, std::span<const std::uint8_t> bytes);  // throws std::system_error
void write_line(std::string_view text);                          // text + "\n" to stdout

// A one-line bar on stderr, redrawn as bytes go out; silent unless enabled.
class Progress {
 public:
  Progress(std::uint64_t total, bool enabled) : total_(total), enabled_(enabled) {}
  void advance(std::uint64_t done);
  void finish();

 private:
  std::uint64_t total_;
  bool enabled_;
  int last_percent_ = -1;
};

}  // namespace rngpool::cli
