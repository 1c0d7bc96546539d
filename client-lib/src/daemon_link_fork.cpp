// DaemonLink and fork(): no child inherits a connection's mutex locked.
//
// A Client shared by threads guards its connection with a mutex.  fork()
// copies only the calling thread, so a fork taken while another thread is
// mid-request would leave the child that mutex locked by a thread it does
// not have, and the child's first request would wait forever.  So every
// live DaemonLink is on a list, and pthread_atfork handlers make fork() wait
// until no request is in flight:
//
//   prepare  lock the list, then every link's mutex in list order: each lock
//            waits for that link's request in flight, if any, which its
//            connect and I/O timeouts bound;
//   parent   unlock them all, in reverse;
//   child    the same (the forking thread locked them, and it is the child's
//            only thread), after telling each link that its connection is
//            its parent's.
//
// Requests check `forking` before they take a link's mutex and, while a fork
// is waiting, queue behind the list lock instead: a thread issuing requests
// back to back would otherwise take the mutex again the moment it let go and
// keep fork() waiting indefinitely.  No I/O is ever done under the list lock.
//
// Nothing here may be left half-made in a child by a thread it does not have.
// So the list lives in constant-initialized storage that is never destroyed,
// and the handlers are installed once, when the library is loaded, rather
// than on first use: a function-local static's guard left "in progress" by a
// thread caught mid-install would block the child forever, and pthread_once
// (std::call_once) would run the install again in the child although the
// parent's registration, already inherited, may have been complete; handlers
// registered twice would lock the list twice in the child's next fork.
#include "daemon_link.hpp"
#include "generator/stream_cipher.hpp"

#include <atomic>
#include <new>
#include <type_traits>

#include <pthread.h>

namespace rngpool::detail {

namespace {

struct LiveLinks {
  std::mutex mutex;                  // guards the list; held by fork() from prepare to parent/child
  std::atomic<bool> forking{false};  // a fork is waiting for, or holds, every link's mutex
  DaemonLink* first = nullptr;
  DaemonLink* last = nullptr;
};

constinit LiveLinks live_links;
// A client destroyed by another static's destructor still finds the list.
static_assert(std::is_trivially_destructible_v<LiveLinks>);

}  // namespace

// 0 until the library's initializers have run (a client made by an earlier
// static initializer is on the list all the same), then 1, or -1 if
// pthread_atfork failed, which it does only for lack of memory.
const int DaemonLink::fork_handlers_ = DaemonLink::install_fork_handlers();

int DaemonLink::install_fork_handlers() noexcept {
  return ::pthread_atfork(&DaemonLink::before_fork, &DaemonLink::after_fork_in_parent,
                          &DaemonLink::after_fork_in_child) == 0
             ? 1
             : -1;
}

void DaemonLink::enlist() {
  if (fork_handlers_ < 0) throw std::bad_alloc();  // a client that fork() would not guard
  std::lock_guard lock(live_links.mutex);
  earlier_ = live_links.last;
  later_ = nullptr;
  (earlier_ ? earlier_->later_ : live_links.first) = this;
  live_links.last = this;
}

void DaemonLink::delist() noexcept {
  std::lock_guard lock(live_links.mutex);
  (earlier_ ? earlier_->later_ : live_links.first) = later_;
  (later_ ? later_->earlier_ : live_links.last) = earlier_;
}

std::unique_lock<std::mutex> DaemonLink::lock_for_exchange() {
  if (live_links.forking.load(std::memory_order_acquire)) {
    std::lock_guard wait_for_fork(live_links.mutex);
  }
  return std::unique_lock(mutex_);
}

void DaemonLink::before_fork() noexcept {
  // Before the list lock: it may wait for another thread's first fetch.
  core::StreamCipher::prepare_for_fork();
  live_links.mutex.lock();
  live_links.forking.store(true, std::memory_order_release);
  for (DaemonLink* link = live_links.first; link; link = link->later_) link->mutex_.lock();
}

void DaemonLink::after_fork_in_parent() noexcept {
  for (DaemonLink* link = live_links.last; link; link = link->earlier_) link->mutex_.unlock();
  live_links.forking.store(false, std::memory_order_release);
  live_links.mutex.unlock();
}

void DaemonLink::after_fork_in_child() noexcept {
  for (DaemonLink* link = live_links.last; link; link = link->earlier_) {
    link->owner_ = 0;  // the connection is the parent's: the next request drops it unused
    link->mutex_.unlock();
  }
  live_links.forking.store(false, std::memory_order_release);
  live_links.mutex.unlock();
}

}  // namespace rngpool::detail
