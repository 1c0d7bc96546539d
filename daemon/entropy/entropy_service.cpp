#include "entropy/entropy_service.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <cmath>

#include "entropy/kernel_rng.hpp"
#include "runtime/log.hpp"

namespace rngpool::server {

using core::HwrngState;

std::string_view to_string(DaemonState state) {
  switch (state) {
    case DaemonState::starting:
      return "starting";
    case DaemonState::ready:
      return "ready";
    case DaemonState::degraded:
      return "degraded";
    case DaemonState::failed:
      return "failed";
  }
  return "unknown";
}

namespace {

// The hwrng delivers nothing usable now: a request that requires it is
// refused at once.  Absent and unreadable may pass (the reader retries);
// the others last until restart.
bool hwrng_cannot_deliver(HwrngState state) {
  return state == HwrngState::absent || state == HwrngState::unreadable || state == HwrngState::exhausted ||
         state == HwrngState::failed_permanent;
}

// Health-passed hwrng bytes that carry a full key's worth of min-entropy.
// Options refuse H below kMinEntropyPerByte; the clamp keeps the conversion
// defined for whatever a caller passes (a double beyond size_t is UB).
std::size_t bytes_for_full_key(double entropy_per_byte) {
  return static_cast<std::size_t>(std::ceil(8.0 * core::kKeySize / std::max(entropy_per_byte, kMinEntropyPerByte)));
}

// ---------------------------------------------------------------------------
// Key memory
//
// SecureBuffer's mlock is best effort (secure_memory.hpp); when it fails the
// operator hears it once at start and in HEALTH (issue 9 item 12), with the
// limit that is the usual cause.
// ---------------------------------------------------------------------------

std::string memlock_limit_text() {
  rlimit limit{};
  if (getrlimit(RLIMIT_MEMLOCK, &limit) != 0)
    return "unknown";
  if (limit.rlim_cur == RLIM_INFINITY)
    return "unlimited";
  return std::to_string(limit.rlim_cur) + " bytes";
}

std::string unlocked_memory_reason(const core::Pool& pool) {
  if (pool.key_memory_locked())
    return {};
  return "key memory not locked: mlock(2) failed with RLIMIT_MEMLOCK at " + memlock_limit_text() +
         ", so key pages may be swapped to disk";
}

}  // namespace

EntropyService::EntropyService(asio::any_io_executor executor, EntropyConfig config)
    : executor_(executor),
      config_(std::move(config)),
      monitor_(config_.entropy_per_byte),
      pool_(core::PoolConfig{.reseed_interval = config_.reseed_interval}, kernel_random),
      kernel_mailbox_(std::make_shared<Mailbox>(executor)),
      reseed_timer_(executor),
      key_memory_problem_(unlocked_memory_reason(pool_)) {}

EntropyService::~EntropyService() { stop(); }

// ---------------------------------------------------------------------------
// Start and stop
// ---------------------------------------------------------------------------

void EntropyService::start() {
  if (!key_memory_problem_.empty())
    log(LogLevel::warning, key_memory_problem_, "; raise LimitMEMLOCK= or grant CAP_IPC_LOCK");
  if (!config_.hwrng_path.empty()) {
    source_ = std::make_unique<HwrngSource>(
        executor_, config_.hwrng_path,
        HwrngHandlers{.block = [this](std::span<const std::uint8_t> raw) { take_hwrng_block(raw); },
                      .wanted = [this] { return hwrng_wanted(); },
                      .lost = [this](HwrngState why) { lose_hwrng(why); },
                      .unavailable = [this](HwrngState why, int error) { hwrng_unavailable(why, error); },
                      .reopened = [this] { hwrng_reopened(); },
                      .read_errors = [this](int error) { note_read_errors(error); }},
        config_.hwrng_retry);
    source_->start();
  }
  when_kernel_rng_ready(kernel_mailbox_, [this] { seed_first(); });
  asio::co_spawn(executor_, reseed_on_schedule(), asio::detached);
  note_change();
}

void EntropyService::stop() {
  if (stopping_)
    return;
  stopping_ = true;
  kernel_mailbox_->close();
  if (source_)
    source_->stop();
  reseed_timer_.cancel();
}

// ---------------------------------------------------------------------------
// Seeding
//
// Every reseed goes through reseed(), so the log and the waiters see all of
// them.  Pool::generate() may also reseed on its own when the byte budget is
// spent; that one needs no announcement.
// ---------------------------------------------------------------------------

void EntropyService::seed_first() {
  log(LogLevel::info, "kernel RNG ready: seeding from getrandom(2)",
      pool_.hwrng_pending() > 0 ? " and the hwrng" : "");
  reseed("first seed");
}

void EntropyService::reseed(std::string_view why) {
  bool with_hwrng = pool_.hwrng_pending() > 0;
  pool_.reseed(core::Clock::now());
  log(LogLevel::debug, "reseeded (", why, with_hwrng ? ", with hwrng input" : "", ")");
  read_hwrng_when_wanted();
  note_change();
}

void EntropyService::reseed_now() { reseed("prediction resistance"); }

// Waking the schedule makes it poll reseed_due() and re-arm with the new period.
void EntropyService::set_reseed_interval(std::chrono::seconds interval) {
  config_.reseed_interval = interval;
  pool_.set_reseed_interval(interval);
  reseed_timer_.cancel();
}

// The pool says when it is due; polling it at a quarter of the interval keeps
// a reseed at most that late without a timer per reseed source.
asio::awaitable<void> EntropyService::reseed_on_schedule() {
  while (!stopping_) {
    reseed_timer_.expires_after(std::max<std::chrono::seconds>(std::chrono::seconds(1), config_.reseed_interval / 4));
    error_code ec;
    co_await reseed_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (!stopping_ && pool_.seeded() && pool_.reseed_due(core::Clock::now()))
      reseed("interval");
    read_hwrng_when_wanted();  // Pool::generate() reseeds on its own, too
  }
}

// ---------------------------------------------------------------------------
// The hwrng
//
// Raw bytes go through the health monitor first; only what it passes reaches
// the input pool.  A permanent failure stops the reader: nothing it could
// read afterwards would be used.
// ---------------------------------------------------------------------------

void EntropyService::take_hwrng_block(std::span<const std::uint8_t> raw) {
  auto before = monitor_.counters();
  auto before_state = monitor_.state();
  auto usable = monitor_.test_block(raw);
  if (!usable.empty())
    pool_.add_hwrng(usable);
  log_health_change(before, before_state);
  if (monitor_.state() == HwrngState::failed_permanent && source_)
    source_->stop();
  mix_hwrng_when_enough();
  note_change();
}

// The reader pauses while the input pool holds kHwrngReserve health-passed
// bytes: far more than a full key's worth (43 bytes at H = 6), about four
// seconds at the reader's rate cap, so a burst of PREDICTION_RESISTANCE
// reseeds still finds fresh hwrng input and the health tests watch the
// source for hundreds of APT windows after every reseed.  Until the start-up
// test has passed, and after an intermittent failure, it reads on.  A source
// that fails or vanishes during a pause is noticed on the first read after
// the next reseed, before any of its bytes are used.
bool EntropyService::hwrng_wanted() const {
  return monitor_.state() != HwrngState::ok || pool_.hwrng_pending() < kHwrngReserve;
}

void EntropyService::read_hwrng_when_wanted() {
  if (source_ && !stopping_ && hwrng_wanted())
    source_->resume();
}

void EntropyService::mix_hwrng_when_enough() {
  if (pool_.seeded() && !pool_.hwrng_in_key() &&
      pool_.hwrng_pending() >= bytes_for_full_key(config_.entropy_per_byte)) {
    reseed("first hwrng input");
    log(LogLevel::info, "hwrng ", config_.hwrng_path, " passed its start-up test and is now part of the key");
  }
}

void EntropyService::log_health_change(const core::HealthCounters& before, HwrngState before_state) {
  const auto& after = monitor_.counters();
  const char* test = after.rct_failures > before.rct_failures ? "repetition count test" : "adaptive proportion test";
  if (after.permanent_failures > before.permanent_failures)
    log(LogLevel::error, "hwrng ", config_.hwrng_path, ": permanent health-test failure (", test,
        "); hwrng disabled until restart");
  else if (after.intermittent_failures > before.intermittent_failures)
    log(LogLevel::warning, "hwrng ", config_.hwrng_path, ": intermittent health-test failure (", test,
        "); block discarded, start-up test restarted");
  else if (before_state != HwrngState::ok && monitor_.state() == HwrngState::ok)
    log(LogLevel::info, "hwrng ", config_.hwrng_path, ": start-up health test passed");
}

void EntropyService::lose_hwrng(HwrngState why) {
  if (monitor_.state() == HwrngState::failed_permanent)
    return;  // the more serious verdict stands
  source_loss_ = why;
  read_error_ = 0;
  note_change();
}

// The reader retries on its own; until it delivers again the hwrng's state
// and errno say why it cannot.
void EntropyService::hwrng_unavailable(HwrngState why, int error) {
  if (monitor_.state() == HwrngState::failed_permanent)
    return;
  ++failed_attempts_;
  source_loss_ = why;
  read_error_ = error;
  note_change();
}

// SP 800-90B §4.3: a reopened source is a new stream of samples; none of it
// counts before the start-up test has passed again.
void EntropyService::hwrng_reopened() {
  source_loss_.reset();
  read_error_ = 0;
  monitor_.source_reopened();
  note_change();
}

void EntropyService::note_read_errors(int error) {
  read_error_ = error;
  note_change();
}

// ---------------------------------------------------------------------------
// Serving
// ---------------------------------------------------------------------------

Admission EntropyService::admission(bool request_requires_hwrng) const {
  bool require = config_.require_hwrng || request_requires_hwrng;
  HwrngState hwrng = hwrng_state();
  if (require && hwrng_cannot_deliver(hwrng))
    return Admission::hwrng_unavailable;
  if (!pool_.seeded())
    return Admission::wait_for_seed;
  if (!require || (hwrng == HwrngState::ok && read_error_ == 0 && pool_.hwrng_in_key()))
    return Admission::serve;
  return Admission::wait_for_hwrng;
}

void EntropyService::generate(std::span<std::uint8_t> out) {
  auto now = core::Clock::now();
  while (!out.empty()) {
    auto piece = out.first(std::min(out.size(), core::kMaxGenerate));
    pool_.generate(piece, now);
    out = out.subspan(piece.size());
  }
}

EntropyService::Subscription EntropyService::subscribe(asio::steady_timer& timer) {
  return Subscription(waiters_, timer);
}

// ---------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------

HwrngState EntropyService::hwrng_state() const {
  if (config_.hwrng_path.empty())
    return HwrngState::absent;
  if (source_loss_)
    return *source_loss_;
  return monitor_.state();
}

bool EntropyService::hwrng_healthy() const {
  HwrngState hwrng = hwrng_state();
  return (hwrng == HwrngState::ok || hwrng == HwrngState::startup) && read_error_ == 0;
}

// Mirrors admission() for a request without flags, so that what STATUS,
// HEALTH and systemd hear is what such a request gets.
DaemonState EntropyService::state() const {
  HwrngState hwrng = hwrng_state();
  if (config_.require_hwrng && hwrng_cannot_deliver(hwrng))
    return DaemonState::failed;
  if (!pool_.seeded())
    return DaemonState::starting;
  if (config_.require_hwrng && hwrng_healthy() && !(hwrng == HwrngState::ok && pool_.hwrng_in_key()))
    return DaemonState::starting;
  if (hwrng_healthy() && key_memory_problem_.empty())
    return DaemonState::ready;
  return DaemonState::degraded;
}

// Wakes the waiters and tells systemd, but only when something they could
// care about changed: not on every hwrng block.
void EntropyService::note_change() {
  Snapshot now{state(), hwrng_state(), read_error_, pool_.seeded(), pool_.seeded() && pool_.hwrng_in_key()};
  if (last_ == now)
    return;
  if (!last_ || last_->state != now.state || last_->hwrng != now.hwrng)
    log(now.state == DaemonState::failed ? LogLevel::error : LogLevel::info, "state ", to_string(now.state),
        ", hwrng ", core::to_string(now.hwrng));
  last_ = now;
  for (auto* timer : waiters_)
    timer->cancel();
  if (on_change_)
    on_change_();
}

}  // namespace rngpool::server
