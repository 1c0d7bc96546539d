#include "server/hwrng_source.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <semaphore>
#include <thread>
#include <vector>

#include "core/secure_memory.hpp"
#include "server/log.hpp"

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
};

namespace {

// What a failed read(2) means for the source.
enum class ReadFailure { retry, transient, vanished, broken };

ReadFailure classify(int error) {
  switch (error) {
    case EINTR:
      return ReadFailure::retry;
    case EAGAIN:
    case EIO:
    case EBUSY:
      return ReadFailure::transient;
    case ENODEV:
    case ENXIO:
    case ENOENT:
      return ReadFailure::vanished;
    default:
      return ReadFailure::broken;
  }
}

// ---------------------------------------------------------------------------
// The reader thread
//
// Error handling follows hw_random's consumers (rngd): EAGAIN/EIO are a
// device having a bad moment, retried with exponential back-off from 10 ms
// to 1 s so a broken device costs nothing; ENODEV/ENXIO mean it is gone; end
// of file is a file or FIFO that has been used up.
// ---------------------------------------------------------------------------

class Reader {
 public:
  Reader(std::string path, std::shared_ptr<HwrngSource::Shared> shared, std::shared_ptr<Mailbox> mailbox,
         const HwrngHandlers* handlers)
      : path_(std::move(path)), shared_(std::move(shared)), mailbox_(std::move(mailbox)), handlers_(handlers) {}

  void run() {
    int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
      log(LogLevel::warning, "cannot open hwrng ", path_, ": ", errno_text(errno),
          "; running on getrandom(2) alone");
      lose(core::HwrngState::absent);
      return;
    }
    log(LogLevel::info, "reading hwrng ", path_);
    read_until_done(fd);
    ::close(fd);
  }

 private:
  void read_until_done(int fd) {
    auto backoff = std::chrono::milliseconds(kFirstBackoff);
    auto next_read = std::chrono::steady_clock::now();
    while (!shared_->stopping) {
      std::vector<std::uint8_t> block(kReadSize);
      ssize_t n = ::read(fd, block.data(), block.size());
      if (n > 0) {
        block.resize(static_cast<std::size_t>(n));
        deliver(std::move(block));
        if (backoff != kFirstBackoff)
          recovered();
        backoff = kFirstBackoff;
        next_read = pace(next_read);
        continue;
      }
      if (n == 0) {
        log(LogLevel::warning, "hwrng ", path_, ": end of file; running on getrandom(2) alone");
        lose(core::HwrngState::exhausted);
        return;
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
        case ReadFailure::vanished:
        case ReadFailure::broken:
          log(LogLevel::warning, "hwrng ", path_, ": read failed: ", errno_text(error),
              "; running on getrandom(2) alone");
          lose(core::HwrngState::absent);
          return;
      }
    }
  }

  // One read per kReadInterval, whatever it returned: a source that
  // trickles (a FIFO written in small pieces) is read in fewer, larger
  // pieces instead of waking the io thread for each.
  static std::chrono::steady_clock::time_point pace(std::chrono::steady_clock::time_point next) {
    next = std::max(next, std::chrono::steady_clock::now()) + kReadInterval;
    std::this_thread::sleep_until(next);
    return next;
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

  void lose(core::HwrngState state) {
    mailbox_->post([handlers = handlers_, state] { handlers->lost(state); });
  }

  std::string path_;
  std::shared_ptr<HwrngSource::Shared> shared_;
  std::shared_ptr<Mailbox> mailbox_;
  const HwrngHandlers* handlers_;  // used only inside posted work, which the mailbox guards
};

}  // namespace

// ---------------------------------------------------------------------------
// The io-thread side
// ---------------------------------------------------------------------------

HwrngSource::HwrngSource(asio::any_io_executor executor, std::string path, HwrngHandlers handlers)
    : path_(std::move(path)),
      handlers_(std::move(handlers)),
      mailbox_(std::make_shared<Mailbox>(std::move(executor))),
      shared_(std::make_shared<Shared>()) {}

HwrngSource::~HwrngSource() { stop(); }

void HwrngSource::start() {
  std::thread([reader = Reader(path_, shared_, mailbox_, &handlers_)]() mutable { reader.run(); }).detach();
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
}

}  // namespace rngpool::server
