// The entropy service: the health monitor, the pool, and when to (re)seed.
//
// This is where the daemon's inputs meet its output.  Everything here runs on
// the io thread; the hwrng reader and the kernel-RNG waiter reach it only
// through posted work, so the pure core never sees a second thread.
//
// Seeding policy (issue 2 §4, issue 3 §2):
//  - first seed as soon as getrandom(2) is ready; nothing is served before it;
//  - when the hwrng first delivers enough health-passed bytes for a full key
//    (256 bits at the claimed H), reseed at once so the key includes it;
//  - afterwards on the pool's schedule (interval or byte budget), and before
//    any request that asks for prediction resistance.
//
// Daemon states, as STATUS and HEALTH report them.  They say what a
// GET_RANDOM gets right now (issue 9 item 7):
//  starting  it waits: not seeded yet, or --require-hwrng and the hwrng has
//            not passed its start-up test and entered the key yet;
//  ready     it is served with everything configured: seeded, hwrng healthy
//            -- or, without --require-hwrng, still in its start-up test,
//            which every start goes through and which is no fault -- and
//            key memory locked;
//  degraded  it is served (or, under --require-hwrng, waits), but not with
//            everything configured: the hwrng contributes nothing (absent,
//            unreadable, exhausted, failed permanently, failing every read,
//            or re-running its start-up test after an intermittent failure)
//            and output rests on getrandom(2) alone, or key memory is not
//            locked;
//  failed    it is refused: --require-hwrng, and the hwrng cannot deliver
//            (absent, unreadable, exhausted or failed permanently, or
//            --hwrng none).  Absent and unreadable are retried every
//            --hwrng-retry seconds, so failed may pass; the daemon keeps
//            running so STATUS and HEALTH can say why, rather than
//            restarting into the same failure.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/health.hpp"
#include "core/pool.hpp"
#include "runtime/asio.hpp"
#include "entropy/hwrng_source.hpp"
#include "runtime/mailbox.hpp"

namespace rngpool::server {

struct EntropyConfig {
  std::string hwrng_path;  // empty: no hwrng
  double entropy_per_byte = core::kDefaultEntropyPerByte;
  bool require_hwrng = false;
  std::chrono::seconds reseed_interval{60};
  std::chrono::milliseconds hwrng_retry = kDefaultHwrngRetry;  // reopening an unavailable hwrng
};

// Named as STATUS reports them (PROTOCOL.md §5.2).
enum class DaemonState { starting, ready, degraded, failed };
std::string_view to_string(DaemonState state);

// Health-passed hwrng bytes held for the next reseed before the reader
// pauses (entropy_service.cpp).
inline constexpr std::size_t kHwrngReserve = 256 * 1024;

// The smallest --hwrng-entropy (issue 9 items 7, 15).  The first hwrng mix
// waits for a full key's worth of tested bytes, 256 / H; below 2^-10 that
// is more than the reader gathers before it pauses, so the hwrng would never
// enter the key, and far below it 256 / H leaves the range of size_t.  A
// round 0.001 bits per byte keeps both in range.
inline constexpr double kMinEntropyPerByte = 0.001;
static_assert(8.0 * core::kKeySize / kMinEntropyPerByte <= static_cast<double>(kHwrngReserve));

// What a GET_RANDOM may do right now.
enum class Admission {
  serve,
  wait_for_seed,      // not seeded yet (NOT_READY if it takes too long)
  wait_for_hwrng,     // hwrng required, still in start-up or not mixed in yet
  hwrng_unavailable,  // hwrng required and gone for good
};

class EntropyService {
 public:
  EntropyService(asio::any_io_executor executor, EntropyConfig config);
  ~EntropyService();
  EntropyService(const EntropyService&) = delete;
  EntropyService& operator=(const EntropyService&) = delete;

  void start();
  void stop();

  // --- serving ---
  Admission admission(bool request_requires_hwrng) const;
  // Fills `out` with pool output; only after admission() said serve.
  void generate(std::span<std::uint8_t> out);
  // Auxiliary input (EGD's add-entropy from root): hashed into the key at
  // the next reseed, never counted as hwrng, never health-tested as if it
  // were (pool.hpp).
  void add_auxiliary(std::span<const std::uint8_t> bytes) { pool_.add_auxiliary(bytes); }
  // Prediction resistance: a fresh key before the next byte.
  void reseed_now();
  // --reseed-interval changed at run time (SIGHUP): the schedule follows at
  // once, and a reseed the new interval makes overdue happens now.
  void set_reseed_interval(std::chrono::seconds interval);

  // While the returned object lives, `timer`'s wait is cancelled on every
  // change that may alter admission(): a cheap condition variable for
  // coroutines.
  class Subscription;
  Subscription subscribe(asio::steady_timer& timer);

  // Called after every state change (systemd READY=1 and STATUS=).
  void on_change(std::function<void()> callback) { on_change_ = std::move(callback); }

  // --- reporting ---
  DaemonState state() const;
  core::HwrngState hwrng_state() const;
  // The hwrng passes its tests (or is in its start-up test) and reads work.
  bool hwrng_healthy() const;
  // errno while the hwrng cannot be opened or read, or while its reads keep
  // failing and are being retried, else 0.
  int hwrng_read_error() const { return read_error_; }
  // Failed attempts to open or read an absent or unreadable hwrng.
  std::uint64_t hwrng_failed_attempts() const { return failed_attempts_; }
  // Why key memory is not locked, for the log and HEALTH; empty when it is.
  const std::string& key_memory_problem() const { return key_memory_problem_; }
  const EntropyConfig& config() const { return config_; }
  const core::HealthMonitor& health() const { return monitor_; }
  const core::Pool& pool() const { return pool_; }

 private:
  void seed_first();
  void take_hwrng_block(std::span<const std::uint8_t> raw);
  void lose_hwrng(core::HwrngState why);
  void hwrng_unavailable(core::HwrngState why, int error);
  void hwrng_reopened();
  void note_read_errors(int error);
  void log_health_change(const core::HealthCounters& before, core::HwrngState before_state);
  void mix_hwrng_when_enough();
  bool hwrng_wanted() const;
  void read_hwrng_when_wanted();
  void reseed(std::string_view why);
  asio::awaitable<void> reseed_on_schedule();
  void note_change();

  asio::any_io_executor executor_;
  EntropyConfig config_;
  core::HealthMonitor monitor_;
  core::Pool pool_;
  std::unique_ptr<HwrngSource> source_;
  // exhausted once the reader gave up; absent or unreadable while it retries
  std::optional<core::HwrngState> source_loss_;
  int read_error_ = 0;  // errno while the source fails to open or read, else 0
  std::uint64_t failed_attempts_ = 0;
  std::shared_ptr<Mailbox> kernel_mailbox_;
  asio::steady_timer reseed_timer_;
  std::string key_memory_problem_;
  std::list<asio::steady_timer*> waiters_;
  std::function<void()> on_change_;
  // What note_change() last reported.
  struct Snapshot {
    DaemonState state;
    core::HwrngState hwrng;
    int read_error;
    bool seeded;
    bool hwrng_in_key;
    bool operator==(const Snapshot&) const = default;
  };
  std::optional<Snapshot> last_;
  bool stopping_ = false;
};

class EntropyService::Subscription {
 public:
  Subscription(std::list<asio::steady_timer*>& waiters, asio::steady_timer& timer)
      : waiters_(waiters), entry_(waiters.insert(waiters.end(), &timer)) {}
  ~Subscription() { waiters_.erase(entry_); }
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;

 private:
  std::list<asio::steady_timer*>& waiters_;
  std::list<asio::steady_timer*>::iterator entry_;
};

}  // namespace rngpool::server
