// The per-thread local generator: reseed rules, fork safety, thread exit.
#include "local_generator.hpp"

#include <algorithm>
#include <atomic>
#include <ctime>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

namespace rngpool::detail {

// ---------------------------------------------------------------------------
// The book: what must vanish in a fork child
//
// The seeded flag, the counters and the incoming key share one locked,
// undumpable, wipe-on-fork page.  A fork child reads seeded == 0 there, so
// it reseeds before its first byte whatever made it (fork, _Fork, clone):
// the kernel zeroes the page, no handler has to run.  The FastKeyErasure
// object's own fields (position, EVP context) live on the heap and survive
// the fork, but a reseed resets them before they are used, and its key and
// keystream pages are wipe-on-fork too, so the child does not even hold the
// parent's unserved bytes.
// ---------------------------------------------------------------------------

struct LocalGenerator::Book {
  std::uint8_t key[core::kKeySize];  // a fetched key on its way in; wiped once installed
  std::uint64_t served;              // output since the last reseed
  std::int64_t seeded_at;            // when, in ns on the policy's clock
  std::uint8_t seeded;               // 1 once reseeded; 0 in fresh, wiped and fork-child pages
};

namespace {

constinit std::atomic<std::size_t> live_generators{0};

std::int64_t now_ns(const ReseedPolicy& policy) {
  if (policy.clock && *policy.clock) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>((*policy.clock)().time_since_epoch()).count();
  }
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
  return std::int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec;
}

}  // namespace

LocalGenerator::LocalGenerator(core::Cipher cipher) : book_(sizeof(Book)), output_(cipher) {
  new (book_.data()) Book{};
  usable_ = book_.wipe_on_fork() && output_.wipe_on_fork();
  live_generators.fetch_add(1, std::memory_order_relaxed);
}

LocalGenerator::~LocalGenerator() {
  wipe();
  live_generators.fetch_sub(1, std::memory_order_relaxed);
}

LocalGenerator::Book& LocalGenerator::book() { return *std::launder(reinterpret_cast<Book*>(book_.data())); }
const LocalGenerator::Book& LocalGenerator::book() const {
  return *std::launder(reinterpret_cast<const Book*>(book_.data()));
}

bool LocalGenerator::seeded() const { return book().seeded != 0; }

void LocalGenerator::wipe() {
  output_.wipe();
  book_.wipe();
}

// ---------------------------------------------------------------------------
// Reseeding
//
// Due before a request's bytes would take the key past `bytes` of output,
// once the key is `interval_ns` old, and whenever unseeded.  A request larger
// than `bytes` is served in pieces of at most `bytes`, each under its own
// key.  The fresh key replaces the old one outright: it is 32 full-entropy
// bytes from the daemon's health-tested pool.  A child also relocks the pages
// (fork does not pass locks on).  If the fetch fails, nothing changes but the
// wiped incoming key: the generator stays due and the call throws, so no byte
// is served past the limit.
// ---------------------------------------------------------------------------

bool LocalGenerator::due(std::size_t n, std::int64_t now, const ReseedPolicy& policy) const {
  const Book& b = book();
  return b.seeded == 0 || b.served + n > policy.bytes || now - b.seeded_at >= policy.interval_ns;
}

void LocalGenerator::reseed(std::int64_t now, KeySource& source) {
  Book& b = book();
  if (b.seeded == 0) {
    book_.relock();
    output_.relock();
  }
  const std::span<std::uint8_t, core::kKeySize> incoming(b.key);
  if (source.collect(now, incoming)) {
    ++reseeds_ahead_;
  } else {
    try {
      source.fetch(incoming);
    } catch (...) {
      core::wipe(incoming);
      throw;
    }
  }
  output_.rekey(incoming);
  core::wipe(incoming);
  b.served = 0;
  b.seeded_at = now;
  b.seeded = 1;
  ++reseeds_;
}

// ---------------------------------------------------------------------------
// Asking ahead
//
// A reseed that waits for the daemon stalls the caller for a round trip
// (hundreds of microseconds when the daemon's CPU was idle), which is what
// a 1 MiB token or a 64 KiB RAND_bytes costs in keystream.  So the call that
// takes a key past half its byte budget asks for the next key and leaves it
// in the socket: the reseed reads a reply that is already there.  It is
// asked for before the keystream that crosses the half is made, so the
// daemon works while we do.
//
// Half a budget can take less keystream time than a round trip: 0.4 ms for
// 1 MiB on a slow host, where waking the daemon's halted vCPU through a
// contended hypervisor takes longer.  So when the first half of a key went
// fast, the key after the next is asked for too: each reseed then reads a
// key asked for a whole budget earlier.  "Fast" is half a budget in under a
// quarter of kAheadLifetime, so that at the same pace that key is still
// fresh when its reseed comes three halves later; a slower thread keeps one
// key on its way, and never asks for one it would drop.
//
// The keys on their way belong to the link, not to a thread: replies come
// in order on its one stream, so the next reseed through that link, in any
// thread, takes the oldest, and threads sharing a Client neither wait for
// nor spoil each other's (asking tops the link up to `keys`).  Each key
// still serves one reseed alone and honours the same flags; only its age
// differs, and a key asked for more than kAheadLifetime before its reseed
// is dropped (the link wipes its reply) for the next one or a fresh fetch.
// The age limit (the interval) is not asked ahead: a key that old is the
// sign of an idle thread, for which a round trip costs nothing that matters.
// ---------------------------------------------------------------------------

void LocalGenerator::ask_ahead(std::size_t n, std::int64_t now, const ReseedPolicy& policy, KeySource& source) {
  const Book& b = book();
  const std::uint64_t half = policy.bytes / 2;
  if (b.served > half || b.served + n <= half) return;  // not the call that crosses the half
  const bool fast = now - b.seeded_at < kAheadLifetime.count() / 4;
  source.request_ahead(fast ? kKeysAhead : 1, now);
}

void LocalGenerator::generate(std::span<std::uint8_t> out, const ReseedPolicy& policy, KeySource& source) {
  while (!out.empty()) {
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), policy.bytes));
    const std::int64_t now = now_ns(policy);
    if (due(n, now, policy)) reseed(now, source);
    ask_ahead(n, now, policy, source);
    output_.generate(out.first(n));
    book().served += n;
    out = out.subspan(n);
  }
}

// ---------------------------------------------------------------------------
// One generator per thread and key source
//
// Keyed by (socket path, require_hwrng, cipher): a require_hwrng client never
// draws from a key fetched without that flag, and clients of the same daemon
// with the same demand share one generator per thread (a Client made per call
// still pays one reseed, not one per call).  The table is thread_local, so
// the fast path takes no lock: a trivially destructible cache remembers the
// last link (by serial, never reused, unlike an address) for each flag and
// the generator found for it.  When the thread exits, the table's destructor
// wipes and unmaps every generator and marks the cache gone, so a call from
// a later thread_local destructor goes to the daemon instead of into freed
// memory.
// ---------------------------------------------------------------------------

namespace {

struct Entry {
  std::string socket_path;
  bool require_hwrng;
  core::Cipher cipher;
  std::unique_ptr<LocalGenerator> generator;
};

constexpr int kSlots = 4;  // (require_hwrng, cipher)
int slot_of(bool require_hwrng, core::Cipher cipher) {
  return (require_hwrng ? 2 : 0) + (cipher == core::Cipher::aes256_ctr ? 1 : 0);
}

struct ThreadCache {
  std::uint64_t link[kSlots];
  LocalGenerator* generator[kSlots];
  bool gone;
};
thread_local constinit ThreadCache cache{};
static_assert(std::is_trivially_destructible_v<ThreadCache>);

struct ThreadTable {
  std::vector<Entry> entries;
  ~ThreadTable() {
    cache = ThreadCache{};
    cache.gone = true;
  }
};
thread_local ThreadTable table;

Entry* find(const std::string& socket_path, bool require_hwrng, core::Cipher cipher) {
  const auto it = std::find_if(table.entries.begin(), table.entries.end(), [&](const Entry& e) {
    return e.require_hwrng == require_hwrng && e.cipher == cipher && e.socket_path == socket_path;
  });
  return it == table.entries.end() ? nullptr : &*it;
}

}  // namespace

// The first call for a (link, slot) pair: find or make the thread's
// generator.  Kept out of line, so the cache hit below is a few instructions.
[[gnu::noinline]] static LocalGenerator* find_or_make_thread_generator(int slot, std::uint64_t link,
                                                                        const std::string& socket_path,
                                                                        bool require_hwrng, core::Cipher cipher) {
  if (cache.gone) return nullptr;
  Entry* entry = find(socket_path, require_hwrng, cipher);
  if (!entry) {
    table.entries.push_back({socket_path, require_hwrng, cipher, std::make_unique<LocalGenerator>(cipher)});
    entry = &table.entries.back();
  }
  LocalGenerator* generator = entry->generator->usable() ? entry->generator.get() : nullptr;
  cache.link[slot] = link;
  cache.generator[slot] = generator;
  return generator;
}

LocalGenerator* thread_generator(std::uint64_t link, const std::string& socket_path, bool require_hwrng,
                                 core::Cipher cipher) {
  const int slot = slot_of(require_hwrng, cipher);
  if (cache.link[slot] == link) [[likely]] return cache.generator[slot];
  return find_or_make_thread_generator(slot, link, socket_path, require_hwrng, cipher);
}

const LocalGenerator* find_thread_generator(const std::string& socket_path, bool require_hwrng,
                                            core::Cipher cipher) {
  if (cache.gone) return nullptr;
  const Entry* entry = find(socket_path, require_hwrng, cipher);
  return entry ? entry->generator.get() : nullptr;
}

std::size_t live_local_generators() { return live_generators.load(std::memory_order_relaxed); }

}  // namespace rngpool::detail
