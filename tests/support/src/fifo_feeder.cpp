#include "rngpool/test/fifo_feeder.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>
#include <vector>

namespace rngpool::test {

FifoFeeder::FifoFeeder(std::filesystem::path path, Fill fill, std::chrono::milliseconds pause,
                       std::size_t chunk_size, Start start)
    : path_(std::move(path)), fill_(std::move(fill)), pause_(pause), chunk_size_(chunk_size) {
  if (mkfifo(path_.c_str(), 0600) != 0 && errno != EEXIST)
    throw std::system_error(errno, std::generic_category(), "mkfifo " + path_.native());
  // Read-write: open() does not wait for a reader, and as long as we hold a
  // read end too, the daemon never sees EOF and we never get SIGPIPE.
  fifo_fd_ = open(path_.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fifo_fd_ < 0) throw std::system_error(errno, std::generic_category(), "open " + path_.native());
  if (pipe2(stop_pipe_, O_CLOEXEC) != 0) {
    int error = errno;
    close(fifo_fd_);
    throw std::system_error(error, std::generic_category(), "pipe2");
  }
  if (start == Start::pipe_full) fill_pipe();
  thread_ = std::thread([this] { run(); });
}

FifoFeeder::~FifoFeeder() {
  char byte = 0;
  while (write(stop_pipe_[1], &byte, 1) < 0 && errno == EINTR) {
  }
  thread_.join();
  close(stop_pipe_[0]);
  close(stop_pipe_[1]);
  close(fifo_fd_);
}

void FifoFeeder::fill_pipe() {
  std::vector<std::uint8_t> chunk(64 * 1024);
  for (;;) {
    fill_(chunk);
    ssize_t n = write(fifo_fd_, chunk.data(), chunk.size());
    if (n > 0) bytes_written_ += static_cast<std::uint64_t>(n);
    if (n < static_cast<ssize_t>(chunk.size()) && !(n < 0 && errno == EINTR)) return;  // full (EAGAIN or short)
  }
}

void FifoFeeder::run() {
  std::vector<std::uint8_t> chunk(chunk_size_);
  std::size_t offset = chunk.size();  // nothing pending
  for (;;) {
    if (offset == chunk.size()) {
      if (pause_.count() > 0) {
        pollfd stop{stop_pipe_[0], POLLIN, 0};
        if (poll(&stop, 1, static_cast<int>(pause_.count())) > 0) return;
      }
      fill_(chunk);
      offset = 0;
    }
    pollfd fds[2] = {{stop_pipe_[0], POLLIN, 0}, {fifo_fd_, POLLOUT, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[0].revents != 0) return;
    if ((fds[1].revents & POLLOUT) == 0) continue;
    ssize_t n = write(fifo_fd_, chunk.data() + offset, chunk.size() - offset);
    if (n > 0) {
      offset += static_cast<std::size_t>(n);
      bytes_written_ += static_cast<std::uint64_t>(n);
    } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
      return;
    }
  }
}

FifoFeeder::Fill FifoFeeder::random_bytes() {
  return [](std::span<std::uint8_t> out) {
    std::size_t done = 0;
    while (done < out.size()) {
      ssize_t n = getrandom(out.data() + done, out.size() - done, 0);
      if (n > 0) done += static_cast<std::size_t>(n);
    }
  };
}

FifoFeeder::Fill FifoFeeder::constant_byte(std::uint8_t byte) {
  return [byte](std::span<std::uint8_t> out) { std::fill(out.begin(), out.end(), byte); };
}

}  // namespace rngpool::test
