#include "support/fifo_hwrng.hpp"

#include <cerrno>
#include <chrono>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace rngpool::bench {

namespace {

constexpr auto kTrickleTick = std::chrono::milliseconds(50);
constexpr std::size_t kPrefill = std::size_t{1} << 20;  // more than any pipe buffer holds

}  // namespace

FifoHwrng::FifoHwrng(std::string path, std::size_t bytes_per_second) : path_(std::move(path))
{
  ::unlink(path_.c_str());
  if (::mkfifo(path_.c_str(), 0600) != 0) throw_errno("mkfifo " + path_);
  fd_ = Fd(::open(path_.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC));
  if (!fd_) throw_errno("open " + path_);
  feed(kPrefill);
  const std::size_t per_tick = std::max<std::size_t>(
      1, bytes_per_second * static_cast<std::size_t>(kTrickleTick.count()) / 1000);
  trickle_ = std::jthread([this, per_tick](std::stop_token stop) {
    while (!stop.stop_requested()) {
      std::this_thread::sleep_for(kTrickleTick);
      feed(per_tick);
    }
  });
}

FifoHwrng::~FifoHwrng()
{
  trickle_.request_stop();
  if (trickle_.joinable()) trickle_.join();
  ::unlink(path_.c_str());
}

void FifoHwrng::feed(std::size_t size)
{
  std::vector<unsigned char> bytes(std::min<std::size_t>(size, 64 * 1024));
  while (size > 0) {
    const std::size_t n = std::min(size, bytes.size());
    if (::getrandom(bytes.data(), n, 0) != static_cast<ssize_t>(n)) return;
    const ssize_t written = ::write(fd_.get(), bytes.data(), n);
    if (written <= 0) return;  // pipe full (EAGAIN): a device would have waited too
    size -= static_cast<std::size_t>(written);
  }
}

}  // namespace rngpool::bench
