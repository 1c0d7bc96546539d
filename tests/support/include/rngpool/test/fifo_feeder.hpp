// A FIFO standing in for /dev/hwrng, written by a thread: healthy random
// bytes, a stuck byte, or whatever a fault-injection test needs; paced like
// a real device (a chunk per pause) when the bench measures an idle daemon.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <thread>

namespace rngpool::test {

class FifoFeeder {
 public:
  // Fills the next chunk to write.
  using Fill = std::function<void(std::span<std::uint8_t>)>;

  enum class Start {
    paced,      // the first chunk after the first pause
    pipe_full,  // fill the pipe's buffer before returning, then pace
  };

  // Creates the FIFO when missing and holds it open read-write, so the
  // daemon's open() never blocks and it never sees EOF while the feeder lives.
  // `pause` between chunks makes a slow source.  Start::pipe_full lets a
  // reader's start-up find its first few kB at once however slow the pace,
  // so a start-up figure measures the reader rather than the feeder.
  FifoFeeder(std::filesystem::path path, Fill fill,
             std::chrono::milliseconds pause = std::chrono::milliseconds{0},
             std::size_t chunk_size = 4096, Start start = Start::paced);
  ~FifoFeeder();  // stops the thread and closes the FIFO (the daemon then sees EOF)
  FifoFeeder(const FifoFeeder&) = delete;
  FifoFeeder& operator=(const FifoFeeder&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::uint64_t bytes_written() const { return bytes_written_.load(); }

  static Fill random_bytes();                   // a healthy source: getrandom(2)
  static Fill constant_byte(std::uint8_t byte);  // a stuck source

 private:
  void run();
  void fill_pipe();

  std::filesystem::path path_;
  Fill fill_;
  std::chrono::milliseconds pause_;
  std::size_t chunk_size_;
  int fifo_fd_ = -1;
  int stop_pipe_[2] = {-1, -1};  // written once to wake the thread for shutdown
  std::atomic<std::uint64_t> bytes_written_{0};
  std::thread thread_;
};

}  // namespace rngpool::test
