// Handing results from a blocking helper thread to the io thread.
//
// The hwrng reader and the kernel-RNG waiter block in system calls nobody
// can interrupt portably (read(2) on /dev/hwrng or a FIFO without a writer,
// getrandom(2) before the kernel RNG is initialised).  So those threads are
// detached, may outlive the objects that started them, and must never touch
// those objects directly: they only post() here.  close() -- on the io
// thread -- cuts them off; posts after it, and posted work that has not run
// yet, are dropped.
#pragma once

#include <functional>
#include <memory>
#include <mutex>

#include "runtime/asio.hpp"

namespace rngpool::server {

class Mailbox : public std::enable_shared_from_this<Mailbox> {
 public:
  explicit Mailbox(asio::any_io_executor executor) : executor_(std::move(executor)) {}

  // Any thread.
  void post(std::function<void()> work) {
    std::lock_guard lock(mutex_);
    if (closed_)
      return;
    asio::post(executor_, [self = shared_from_this(), work = std::move(work)] {
      if (!self->closed())
        work();
    });
  }

  bool closed() const {
    std::lock_guard lock(mutex_);
    return closed_;
  }

  // The io thread, before the receiver goes away.
  void close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }

 private:
  mutable std::mutex mutex_;
  asio::any_io_executor executor_;
  bool closed_ = false;
};

}  // namespace rngpool::server
