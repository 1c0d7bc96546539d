#include "rngpool/test/process_usage.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>

namespace rngpool::test {

namespace {

std::string proc_path(pid_t pid) { return "/proc/" + std::to_string(pid); }

std::optional<double> schedstat_seconds(pid_t pid) {
  std::error_code error;
  double total = 0;
  bool any = false;
  for (const auto& task : std::filesystem::directory_iterator(proc_path(pid) + "/task", error)) {
    std::ifstream schedstat(task.path() / "schedstat");
    unsigned long long ns = 0;
    if (schedstat >> ns) {
      total += static_cast<double>(ns) / 1e9;
      any = true;
    }
  }
  return any ? std::optional<double>(total) : std::nullopt;
}

double stat_seconds(pid_t pid) {
  std::ifstream stat(proc_path(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  // The command name may hold spaces and parentheses; fields are counted
  // from the last ')'.  utime and stime are fields 14 and 15.
  const auto close = text.rfind(')');
  if (close == std::string::npos) throw std::runtime_error("cannot parse " + proc_path(pid) + "/stat");
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  unsigned long long ticks = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i >= 14) ticks += std::stoull(field);
  }
  return static_cast<double>(ticks) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

}  // namespace

std::uint64_t rss_kib(pid_t pid) {
  std::ifstream status(proc_path(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6));
  }
  throw std::runtime_error("no VmRSS for pid " + std::to_string(pid));
}

double cpu_seconds(pid_t pid) {
  if (auto seconds = schedstat_seconds(pid)) return *seconds;
  return stat_seconds(pid);
}

}  // namespace rngpool::test
