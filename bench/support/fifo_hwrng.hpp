// A healthy stand-in for /dev/hwrng: a FIFO fed with getrandom(2) bytes.
//
// Why a pre-filled pipe plus a slow trickle: a real virtio-rng delivers about
// 10-20 kB/s, and the daemon's start-up needs only its first few kB (1024
// start-up samples and one seed).  Filling the pipe's buffer before the
// daemon starts makes the start-up figure measure the daemon rather than
// this feeder; trickling at device speed afterwards keeps the idle-CPU figure
// honest (an unlimited feeder would keep the daemon's reader thread busy).
// We hold the FIFO open read-write, so the daemon never sees EOF.
#pragma once

#include "support/unix_socket.hpp"

#include <cstddef>
#include <string>
#include <thread>

namespace rngpool::bench {

class FifoHwrng {
 public:
  FifoHwrng(std::string path, std::size_t bytes_per_second);
  ~FifoHwrng();
  FifoHwrng(const FifoHwrng&) = delete;
  FifoHwrng& operator=(const FifoHwrng&) = delete;

  const std::string& path() const { return path_; }

 private:
  // Writes up to `size` random bytes without blocking; stops when the pipe is full.
  void feed(std::size_t size);

  std::string path_;
  Fd fd_;
  std::jthread trickle_;
};

}  // namespace rngpool::bench
