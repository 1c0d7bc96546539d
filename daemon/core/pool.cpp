// The output pool: reseed policy and key derivation around the fast key
// erasure generator.
#include "core/pool.hpp"

#include <array>
#include <stdexcept>

#include "generator/fast_key_erasure.hpp"
#include "core/input_pool.hpp"
#include "generator/secure_memory.hpp"

namespace rngpool::core {

namespace {

// Reseed scratch in locked memory: the fresh system bytes, the input-pool
// digest and the new key never touch the stack.
constexpr std::size_t kFreshOffset = 0;
constexpr std::size_t kDigestOffset = kFreshOffset + kKeySize;
constexpr std::size_t kAuxiliaryDigestOffset = kDigestOffset + kBlake2b256Size;
constexpr std::size_t kNewKeyOffset = kAuxiliaryDigestOffset + kBlake2b256Size;
constexpr std::size_t kScratchSize = kNewKeyOffset + kKeySize;

}  // namespace

struct Pool::State {
  State(PoolConfig c, SystemEntropy e) : config(c), system_entropy(std::move(e)), scratch(kScratchSize) {}

  PoolConfig config;
  SystemEntropy system_entropy;
  FastKeyErasure output;
  InputPool input;
  InputPool auxiliary{"rngpool v1 auxiliary input"};
  Blake2b256 reseed_hash{"rngpool v1 reseed"};
  SecureBuffer scratch;
  PoolCounters counters;
  Clock::time_point last_reseed{};
  std::uint64_t bytes_since_reseed = 0;
  bool seeded = false;
  bool hwrng_in_key = false;
  std::optional<Clock::time_point> last_hwrng_reseed;

  std::span<std::uint8_t, kKeySize> fresh() { return scratch.bytes().subspan<kFreshOffset, kKeySize>(); }
  std::span<std::uint8_t, kBlake2b256Size> digest() {
    return scratch.bytes().subspan<kDigestOffset, kBlake2b256Size>();
  }
  std::span<std::uint8_t, kBlake2b256Size> auxiliary_digest() {
    return scratch.bytes().subspan<kAuxiliaryDigestOffset, kBlake2b256Size>();
  }
  std::span<std::uint8_t, kKeySize> new_key() { return scratch.bytes().subspan<kNewKeyOffset, kKeySize>(); }
};

Pool::Pool(PoolConfig config, SystemEntropy system_entropy)
    : state_(std::make_unique<State>(config, std::move(system_entropy))) {
  if (!state_->system_entropy) {
    throw std::invalid_argument("Pool needs a system entropy source");
  }
}

Pool::~Pool() = default;

// ---------------------------------------------------------------------------
// The input pool
// ---------------------------------------------------------------------------

void Pool::add_hwrng(std::span<const std::uint8_t> bytes) { state_->input.absorb(bytes); }

std::size_t Pool::hwrng_pending() const { return state_->input.pending(); }

bool Pool::hwrng_in_key() const { return state_->hwrng_in_key; }

void Pool::add_auxiliary(std::span<const std::uint8_t> bytes) { state_->auxiliary.absorb(bytes); }

std::size_t Pool::auxiliary_pending() const { return state_->auxiliary.pending(); }

std::optional<Clock::time_point> Pool::last_reseed() const {
  return state_->seeded ? std::optional(state_->last_reseed) : std::nullopt;
}

std::optional<Clock::time_point> Pool::last_hwrng_reseed() const { return state_->last_hwrng_reseed; }

// ---------------------------------------------------------------------------
// Reseeding
//
// The new key hashes the old one forward, so every earlier input stays in it:
// a reseed can only add entropy, never replace good state with bad.  Fresh
// system bytes come first and may throw; until they are in, nothing has
// changed.  A presence byte before the optional digests keeps the encoding
// unambiguous (bit 0: hwrng, bit 1: auxiliary; a pool that never saw
// auxiliary input derives exactly what it did before there was any), and the counter makes every derivation distinct even if every
// other input repeated.  The input pool restarts only when it is drained, so
// hwrng bytes are never silently dropped.
// ---------------------------------------------------------------------------

namespace {

std::array<std::uint8_t, 8> little_endian(std::uint64_t v) {
  std::array<std::uint8_t, 8> out{};
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<std::uint8_t>(v >> (8 * i));
  }
  return out;
}

struct WipeOnExit {
  SecureBuffer& buffer;
  ~WipeOnExit() { buffer.wipe(); }
};

}  // namespace

void Pool::reseed(Clock::time_point now) {
  State& s = *state_;
  const WipeOnExit wipe_scratch{s.scratch};
  s.system_entropy(s.fresh());

  const std::uint64_t reseed_number = s.counters.reseeds + 1;
  const std::size_t hwrng_bytes = s.input.pending();
  const std::size_t auxiliary_bytes = s.auxiliary.pending();
  const std::uint8_t has_hwrng = hwrng_bytes > 0 ? 1 : 0;
  const std::uint8_t has_auxiliary = auxiliary_bytes > 0 ? 1 : 0;
  const auto presence = static_cast<std::uint8_t>(has_hwrng | has_auxiliary << 1);
  s.reseed_hash.update(s.output.key());
  s.reseed_hash.update(s.fresh());
  s.reseed_hash.update(std::span(&presence, 1));
  if (has_hwrng) {
    s.input.drain(s.digest());
    s.reseed_hash.update(s.digest());
  }
  if (has_auxiliary) {
    s.auxiliary.drain(s.auxiliary_digest());
    s.reseed_hash.update(s.auxiliary_digest());
  }
  s.reseed_hash.update(little_endian(reseed_number));
  s.reseed_hash.finish(s.new_key());
  s.output.rekey(s.new_key());

  s.counters.reseeds = reseed_number;
  s.counters.reseeds_with_hwrng += has_hwrng;
  s.counters.hwrng_bytes_mixed += hwrng_bytes;
  s.counters.auxiliary_bytes_mixed += auxiliary_bytes;
  s.hwrng_in_key = s.hwrng_in_key || has_hwrng;
  s.seeded = true;
  s.last_reseed = now;
  if (has_hwrng)
    s.last_hwrng_reseed = now;
  s.bytes_since_reseed = 0;
}

bool Pool::seeded() const { return state_->seeded; }

void Pool::set_reseed_interval(std::chrono::seconds interval) { state_->config.reseed_interval = interval; }

bool Pool::reseed_due(Clock::time_point now) const {
  const State& s = *state_;
  return !s.seeded || now - s.last_reseed >= s.config.reseed_interval ||
         s.bytes_since_reseed >= s.config.reseed_bytes;
}

// ---------------------------------------------------------------------------
// Generating
// ---------------------------------------------------------------------------

void Pool::generate(std::span<std::uint8_t> out, Clock::time_point now) {
  if (out.size() > kMaxGenerate) {
    throw std::length_error("Pool::generate: at most 64 KiB per call");
  }
  if (!seeded()) {
    throw std::logic_error("Pool::generate: the pool has not been seeded");
  }
  if (reseed_due(now)) {
    reseed(now);
  }
  state_->output.generate(out);
  state_->counters.bytes_generated += out.size();
  state_->bytes_since_reseed += out.size();
}

const PoolCounters& Pool::counters() const { return state_->counters; }

bool Pool::key_memory_locked() const { return state_->output.locked() && state_->scratch.locked(); }

}  // namespace rngpool::core
