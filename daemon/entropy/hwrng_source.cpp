#include "entropy/hwrng_source.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <semaphore>
#include <string_view>
#include <thread>
#include <vector>

#include "generator/secure_memory.hpp"
#include "runtime/log.hpp"

namespace rngpool::server {

using namespace std::chrono_literals;

// ---------------------------------------------------------------------------
// Pacing, back-pressure and pauses
//
// Read up to 16 KiB at a time, at most four times a second, each read posted
// to the io thread as one piece of work and tested there in 1 KiB blocks
// (hw_random's own transfer size is smaller; a block is the unit an
// intermittent health failure discards).  Fewer, larger reads mean fewer
// wake-ups of both threads: reading 1 KiB blocks as they came cost 0.3 % of
// a CPU on an idle daemon.  A real device is slower than the resulting
// 64 KiB/s cap anyway; the cap only matters for a file or FIFO standing in
// for it, where reading flat out would burn a core on health tests the pool
// does not need, and a 10 MiB test FIFO would be exhausted in a blink.  At most kMaxInFlight reads wait for the io thread, so a busy
// io thread slows the reader instead of growing a queue.
//
// Why pause: once the input pool holds more than the next reseed needs,
// reading on would only drain the host's hwrng (and burn CPU on tests) for
// bytes that are hashed into one digest anyway.  So the io thread keeps a
// read's slot instead of releasing it while it does not want more
// (HwrngHandlers::wanted), and resume() gives the slots back after the next
// reseed.  Every byte that is read is still tested before use.
// ---------------------------------------------------------------------------

namespace {
constexpr std::size_t kReadSize = 16 * kHwrngBlock;
constexpr auto kReadInterval = 250ms;  // kReadSize per 250 ms: at most 64 KiB/s
constexpr std::ptrdiff_t kMaxInFlight = 4;
constexpr auto kFirstBackoff = 10ms;
constexpr auto kMaxBackoff = 1000ms;
}  // namespace

struct HwrngSource::Shared {
  std::atomic<bool> stopping{false};
  // One more than kMaxInFlight so that stop() may always release once.
  std::counting_semaphore<kMaxInFlight + 1> slots{kMaxInFlight};
  std::ptrdiff_t withheld = 0;  // slots kept by a pause; io thread only
  // Wakes a reader waiting to retry an unavailable source.
  std::mutex retry_mutex;
  std::condition_variable retry_wake;
};

namespace {

// What a failed read(2) means for the source.
enum class ReadFailure { retry, transient, unreadable };

ReadFailure classify(int error) {
  switch (error) {
    case EINTR:
      return ReadFailure::retry;
    case EAGAIN:
    case EIO:
    case EBUSY:
      return ReadFailure::transient;
    default:
      return ReadFailure::unreadable;
  }
}

// Only a path that is not there is absent; anything else that stops open(2)
// -- EACCES under a wrong udev rule, ENXIO for a node without its driver,
// ... -- is a source that exists and cannot be read, which the operator
// must be told by name (issue 10 §1).
core::HwrngState open_failure(int error) {
  return error == ENOENT ? core::HwrngState::absent : core::HwrngState::unreadable;
}

// O_NONBLOCK so that open(2) itself never blocks: a FIFO without a writer
// would keep a blocking open waiting for one, unreported, while the daemon
// claimed to be in start-up.  Cleared at once, since the reader relies on
// blocking reads; such a FIFO's first read then says end of file.
int open_source(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0)
    return -1;
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) {
    int error = errno;
    ::close(fd);
    errno = error;
    return -1;
  }
  return fd;
}

// ---------------------------------------------------------------------------
// The reader thread
//
// Error handling follows hw_random's consumers (rngd): EAGAIN/EIO are a
// device having a bad moment, retried with exponential back-off from 10 ms
// to 1 s so a broken device costs nothing; end of file is a file or FIFO
// that has been used up, and stays so (reading a file again would count
// its bytes twice).  A source that cannot be opened, or whose reads fail
// otherwise (ENODEV: the device vanished; EACCES; EISDIR), is opened again
// every --hwrng-retry seconds, so fixing a permission or plugging in a device
// needs no restart.  Each streak of failures is logged once; the retries are
// counted in STATUS.
// ---------------------------------------------------------------------------

class Reader {
 public:
  Reader(std::string path, std::chrono::milliseconds retry, std::shared_ptr<HwrngSource::Shared> shared,
         std::shared_ptr<Mailbox> mailbox, const HwrngHandlers* handlers)
      : path_(std::move(path)),
        retry_(retry),
        shared_(std::move(shared)),
        mailbox_(std::move(mailbox)),
        handlers_(handlers) {}

  void run() {
    while (!shared_->stopping) {
      int fd = open_source(path_);
      if (fd < 0) {
        int error = errno;
        unavailable(open_failure(error), error, "cannot open");
      } else {
        delivered_ = false;
        if (!unavailable_)
          log(LogLevel::info, "reading hwrng ", path_);
        auto ended = read_until_done(fd);
        ::close(fd);
        if (ended != Ended::unreadable)
          return;
      }
      wait_to_retry();
    }
  }

 private:
  enum class Ended { stopped, exhausted, unreadable };

  Ended read_until_done(int fd) {
    auto backoff = std::chrono::milliseconds(kFirstBackoff);
    auto next_read = std::chrono::steady_clock::now();
    while (!shared_->stopping) {
      std::vector<std::uint8_t> block(kReadSize);
      ssize_t n = ::read(fd, block.data(), block.size());
      if (n > 0) {
        block.resize(static_cast<std::size_t>(n));
        if (unavailable_)
          available_again();
        delivered_ = true;
        deliver(std::move(block));
        if (backoff != kFirstBackoff)
          recovered();
        backoff = kFirstBackoff;
        next_read = pace(next_read);
        continue;
      }
      if (n == 0) {
        log(LogLevel::warning, "hwrng ", path_, ": end of file", writerless_fifo(fd) ? " (a FIFO without a writer)" : "",
            "; not read again until restart");
        lose(core::HwrngState::exhausted);
        return Ended::exhausted;
      }
      int error = errno;
      switch (classify(error)) {
        case ReadFailure::retry:
          continue;
        case ReadFailure::transient:
          if (backoff == kFirstBackoff)
            failing(error);
          std::this_thread::sleep_for(backoff);
          backoff = std::min(backoff * 2, std::chrono::milliseconds(kMaxBackoff));
          continue;
        case ReadFailure::unreadable:
          unavailable(core::HwrngState::unreadable, error, "cannot read");
          return Ended::unreadable;
      }
    }
    return Ended::stopped;
  }

  // A FIFO that gives end of file before its first byte had no writer when
  // it was opened: worth saying, since the path looks fine.
  bool writerless_fifo(int fd) const {
    struct stat info {};
    return !delivered_ && ::fstat(fd, &info) == 0 && S_ISFIFO(info.st_mode);
  }

  // One read per kReadInterval, whatever it returned: a source that
  // trickles (a FIFO written in small pieces) is read in fewer, larger
  // pieces instead of waking the io thread for each.
  static std::chrono::steady_clock::time_point pace(std::chrono::steady_clock::time_point next) {
    next = std::max(next, std::chrono::steady_clock::now()) + kReadInterval;
    std::this_thread::sleep_until(next);
    return next;
  }

  void wait_to_retry() {
    std::unique_lock lock(shared_->retry_mutex);
    shared_->retry_wake.wait_for(lock, retry_, [&] { return shared_->stopping.load(); });
  }

  void deliver(std::vector<std::uint8_t> block) {
    shared_->slots.acquire();
    mailbox_->post([shared = shared_, handlers = handlers_, block = std::move(block)]() mutable {
      std::span<const std::uint8_t> rest(block);
      while (!rest.empty() && !shared->stopping) {
        auto piece = rest.first(std::min(rest.size(), kHwrngBlock));
        handlers->block(piece);
        rest = rest.subspan(piece.size());
      }
      core::wipe(block);
      if (handlers->wanted())
        shared->slots.release();
      else
        ++shared->withheld;
    });
  }

  // Once per streak of failed reads, not once per retry: a dead device
  // would otherwise fill the journal.
  void failing(int error) {
    log(LogLevel::warning, "hwrng ", path_, ": read failed: ", errno_text(error),
        "; retrying with back-off up to 1 s, serving from getrandom(2) alone meanwhile");
    mailbox_->post([handlers = handlers_, error] { handlers->read_errors(error); });
  }

  void recovered() {
    log(LogLevel::info, "hwrng ", path_, ": reads work again");
    mailbox_->post([handlers = handlers_] { handlers->read_errors(0); });
  }

  // Logged at the first failure of a streak, then only counted (STATUS
  // hwrng_retries), whatever the errno does meanwhile.
  void unavailable(core::HwrngState state, int error, std::string_view what) {
    if (!unavailable_)
      log(LogLevel::warning, what, " hwrng ", path_, ": ", errno_text(error), "; retrying every ",
          static_cast<double>(retry_.count()) / 1000.0, " s");
    unavailable_ = true;
    mailbox_->post([handlers = handlers_, state, error] { handlers->unavailable(state, error); });
  }

  // Posted before the first block, so the io thread restarts the start-up
  // test before it tests any byte of the reopened source.
  void available_again() {
    unavailable_ = false;
    log(LogLevel::info, "hwrng ", path_, ": readable again; its start-up test runs again before its bytes count");
    mailbox_->post([handlers = handlers_] { handlers->reopened(); });
  }

  void lose(core::HwrngState state) {
    mailbox_->post([handlers = handlers_, state] { handlers->lost(state); });
  }

  std::string path_;
  std::chrono::milliseconds retry_;
  std::shared_ptr<HwrngSource::Shared> shared_;
  std::shared_ptr<Mailbox> mailbox_;
  const HwrngHandlers* handlers_;  // used only inside posted work, which the mailbox guards
  bool unavailable_ = false;       // since the last failed open or read, no byte came
  bool delivered_ = false;         // a byte came since the last open
};

}  // namespace

// ---------------------------------------------------------------------------
// The io-thread side
// ---------------------------------------------------------------------------

HwrngSource::HwrngSource(asio::any_io_executor executor, std::string path, HwrngHandlers handlers,
                         std::chrono::milliseconds retry)
    : path_(std::move(path)),
      retry_(retry),
      handlers_(std::move(handlers)),
      mailbox_(std::make_shared<Mailbox>(std::move(executor))),
      shared_(std::make_shared<Shared>()) {}

HwrngSource::~HwrngSource() { stop(); }

void HwrngSource::start() {
  std::thread([reader = Reader(path_, retry_, shared_, mailbox_, &handlers_)]() mutable { reader.run(); }).detach();
}

void HwrngSource::resume() {
  for (; shared_->withheld > 0; --shared_->withheld)
    shared_->slots.release();
}

void HwrngSource::stop() {
  if (shared_->stopping.exchange(true))
    return;
  mailbox_->close();
  shared_->slots.release();  // wake a reader waiting for a slot so it can see `stopping`
  { std::lock_guard lock(shared_->retry_mutex); }  // a reader about to wait sees `stopping` or gets the wake
  shared_->retry_wake.notify_all();
}

}  // namespace rngpool::server
