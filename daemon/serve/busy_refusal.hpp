// Turning a client away with BUSY (issue 9 §5, §9; PROTOCOL.md §6.2).
//
// A client over --max-connections or --max-connections-per-uid, or one the
// daemon has no file descriptor for, is closed -- but a bare close looks
// like a crash to the client (ECONNRESET, "connection broke"), so it is told
// BUSY first, in its own mode.  The mode is in the first byte, which a
// client usually sends right after connect(2) but may not have sent yet when
// the daemon accepts: so the refusal waits up to kFirstBytesWait for it,
// without a Connection, a chunk or a slot.  Only kMaxWaiting refusals wait
// at once; beyond that, and when the daemon is out of descriptors, the
// refusal answers with whatever has already arrived (binary BUSY when
// nothing has: programs, not people, open connections in bulk).
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include "runtime/asio.hpp"

namespace rngpool::server {

class BusyRefusals {
 public:
  static constexpr std::chrono::milliseconds kFirstBytesWait{500};
  static constexpr std::size_t kMaxWaiting = 64;

  explicit BusyRefusals(asio::any_io_executor executor) : executor_(std::move(executor)) {}

  // Answers BUSY with `message` and closes, waiting for the first bytes
  // when it may.
  void refuse(UnixSocket socket, std::string message);
  // Answers BUSY at once and closes `fd`.
  static void refuse_now(int fd, std::string_view message);

 private:
  asio::awaitable<void> wait_and_refuse(UnixSocket socket, std::string message);

  asio::any_io_executor executor_;
  std::size_t waiting_ = 0;
};

}  // namespace rngpool::server
