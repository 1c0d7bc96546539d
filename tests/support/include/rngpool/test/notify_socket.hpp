// A datagram socket standing in for systemd's NOTIFY_SOCKET, to see what
// the daemon reports with sd_notify (READY=1, STATUS=, WATCHDOG=1, ...).
#pragma once

#include "rngpool/test/fd.hpp"

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rngpool::test {

class NotifySocket {
 public:
  explicit NotifySocket(std::filesystem::path path);
  ~NotifySocket();
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  std::string environment() const { return "NOTIFY_SOCKET=" + path_.native(); }  // for DaemonConfig::env
  // Waits until some line received so far, from the `from`th on, starts
  // with `prefix` ("READY=1", "STATUS="); returns the first such line, or
  // nullopt after `timeout`.
  std::optional<std::string> wait_for(std::string_view prefix,
                                      std::chrono::milliseconds timeout = std::chrono::seconds{10},
                                      std::size_t from = 0);
  const std::filesystem::path& path() const { return path_; }
  const std::vector<std::string>& lines() const { return lines_; }  // every line received so far

 private:
  std::filesystem::path path_;
  Fd fd_;
  std::vector<std::string> lines_;
};

}  // namespace rngpool::test
