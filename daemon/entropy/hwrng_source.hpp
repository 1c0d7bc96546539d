// The hardware RNG reader (issue 2 §2).
//
// /dev/hwrng supports neither poll(2) nor fast reads (about 10 kB/s on a
// virtio-rng), so it gets its own thread doing plain blocking reads and
// posting each block to the io thread, where the health tests and the pool
// live.  Any file or FIFO can stand in for the device, which is how tests
// drive every failure mode.
//
// The reader only delivers raw bytes and says when the source is
// unavailable (absent: no such path; unreadable: it cannot be opened or read,
// e.g. EACCES, or the device vanished), which it retries every --hwrng-retry
// seconds, gone for good (exhausted: end of file), or failing for now (read
// errors it retries with back-off).  Judging the bytes is the health
// monitor's job.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "core/health.hpp"
#include "runtime/asio.hpp"
#include "runtime/mailbox.hpp"

namespace rngpool::server {

struct HwrngHandlers {
  // Raw bytes in read order, at most kHwrngBlock at a time (the unit the
  // health tests discard); called on the io thread.
  std::function<void(std::span<const std::uint8_t>)> block;
  // Whether to go on reading after a read's blocks; false pauses the reader
  // until resume().  Called on the io thread.
  std::function<bool()> wanted;
  // exhausted, once, after the last block; called on the io thread.
  std::function<void(core::HwrngState)> lost;
  // absent or unreadable, with the errno of the failed open(2) or read(2),
  // on every failed attempt (one per retry interval); called on the io
  // thread.
  std::function<void(core::HwrngState, int)> unavailable;
  // The first bytes after unavailable(), just before their block: the
  // source is back and its start-up test must run again.  Io thread.
  std::function<void()> reopened;
  // Reads keep failing with a possibly transient error (errno), retried
  // with back-off; 0 when reads work again.  Called on the io thread.
  std::function<void(int)> read_errors;
};

inline constexpr std::size_t kHwrngBlock = 1024;
inline constexpr std::chrono::milliseconds kDefaultHwrngRetry{30'000};

class HwrngSource {
 public:
  HwrngSource(asio::any_io_executor executor, std::string path, HwrngHandlers handlers,
              std::chrono::milliseconds retry = kDefaultHwrngRetry);
  ~HwrngSource();
  HwrngSource(const HwrngSource&) = delete;
  HwrngSource& operator=(const HwrngSource&) = delete;

  void start();
  // No block is delivered after this; the thread ends after its current read.
  void stop();
  // Reading goes on after a pause (io thread; cheap when not paused).
  void resume();

  struct Shared;  // between this object and the reader thread

 private:
  std::string path_;
  std::chrono::milliseconds retry_;
  HwrngHandlers handlers_;
  std::shared_ptr<Mailbox> mailbox_;
  std::shared_ptr<Shared> shared_;
};

}  // namespace rngpool::server
