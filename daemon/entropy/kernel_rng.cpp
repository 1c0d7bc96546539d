#include "entropy/kernel_rng.hpp"

#include <sys/random.h>

#include <cerrno>
#include <system_error>
#include <thread>

#include "generator/secure_memory.hpp"
#include "runtime/log.hpp"

namespace rngpool::server {

void kernel_random(std::span<std::uint8_t> out) {
  while (!out.empty()) {
    ssize_t n = getrandom(out.data(), out.size(), 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      throw std::system_error(errno, std::generic_category(), "getrandom");
    out = out.subspan(static_cast<std::size_t>(n));
  }
}

bool kernel_rng_ready() {
  std::uint8_t probe = 0;
  for (;;) {
    ssize_t n = getrandom(&probe, 1, GRND_NONBLOCK);
    core::wipe({&probe, 1});
    if (n >= 0)
      return true;
    if (errno != EINTR)
      return false;
  }
}

// ---------------------------------------------------------------------------
// Waiting for the kernel
//
// Early in boot getrandom(2) can block for seconds.  The io thread must keep
// answering (STATUS, HEALTH, NONBLOCK requests) meanwhile, so a short-lived
// thread does the blocking call and posts back.
// ---------------------------------------------------------------------------

void when_kernel_rng_ready(const std::shared_ptr<Mailbox>& mailbox, std::function<void()> ready) {
  if (kernel_rng_ready()) {
    ready();
    return;
  }
  log(LogLevel::info, "kernel RNG not initialised yet; waiting for it before the first seed");
  std::thread([mailbox, ready = std::move(ready)] {
    std::uint8_t probe = 0;
    while (getrandom(&probe, 1, 0) < 0 && errno == EINTR) {
    }
    core::wipe({&probe, 1});
    mailbox->post(ready);
  }).detach();
}

}  // namespace rngpool::server
