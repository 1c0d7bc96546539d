// rngpool::Client: randomness from rngpoold with the manners of Python's secrets.
//
// A Client is a small handle.  Copies (and the views made by with()) share one
// connection, guarded by a mutex, so one Client may serve many threads.  It
// connects on first use, reconnects once when the daemon restarted, and after
// fork() the child opens its own connection: two processes never read from
// one stream, so they never share bytes.
//
// fork() may be called while other threads use clients: it first waits for
// the requests they have in flight (a request to an unresponsive daemon
// delays it by up to its client's timeouts, 30 s of silence by default) and
// holds back new ones until it returns, so no child inherits a connection
// locked mid-request.  A child made without the pthread_atfork handlers
// (_Fork(), a raw clone()) still drops the inherited connection, but gets no
// such wait.  A Client over a ByteSource has no lock of its own: making the
// source fork-safe is its owner's business.
//
// What is cached between calls: with the local generator on (the default,
// see ClientOptions::local_generator), each thread holds, per socket and
// require_hwrng, a fast-key-erasure ChaCha20 key and at most 4 KiB of
// unserved keystream, in locked, undumpable pages wiped in a fork child, at
// thread exit and at every reseed; it is rekeyed from the daemon before 1 MiB
// of output, after 60 s and after fork (the next key is asked for at half the
// byte budget and read at the reseed, so the reseed does not wait a round
// trip; README › Local generator says when it is dropped instead).  Requests
// with prediction resistance, and every request with the generator off, ask
// the daemon for fresh bytes.
// Composite calls (shuffle, sample, password, ...) draw a batch once and wipe
// it when they return.
#pragma once

#include "rngpool/error.hpp"
#include "rngpool/export.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <memory>
#include <ranges>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rngpool {

inline constexpr const char* kDefaultSocket = "/run/rngpool/rngpool.sock";
inline constexpr std::size_t kDefaultTokenBytes = 32;  // as Python's secrets

// What a request demands of the daemon (see protocol/PROTOCOL.md).
struct RequestFlags {
  bool prediction_resistance = false;  // reseed before serving these bytes
  bool require_hwrng = false;  // fail unless the hwrng is healthy and in the key
  bool nonblock = false;       // NOT_READY instead of waiting for the first seed
};

// A request demands what either set demands.
constexpr RequestFlags operator|(RequestFlags a, RequestFlags b) noexcept {
  return {a.prediction_resistance || b.prediction_resistance, a.require_hwrng || b.require_hwrng,
          a.nonblock || b.nonblock};
}

// ClientOptions::local_cipher.
enum class LocalCipher { chacha20, aes256_ctr };

struct ClientOptions {
  // Empty: $RNGPOOL_SOCKET, else kDefaultSocket.  The variable is read with
  // secure_getenv(3): a setuid, setgid or capability-raising program ignores it.
  std::string socket_path;
  RequestFlags flags;       // applied to every request of this client
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds io_timeout{30000};  // longest silence while awaiting a reply

  // The local generator (README › Local generator): requests without
  // prediction resistance are served by a ChaCha20 fast-key-erasure
  // generator per thread, keyed with 32 bytes from the daemon (carrying
  // require_hwrng when asked) and rekeyed from it before reseed_bytes of
  // output, once reseed_interval old, and in every fork child.  false, or
  // $RNGPOOL_LOCAL_GENERATOR=0 (read with secure_getenv), sends every request
  // to the daemon.  A thread's generator is shared by the clients with the
  // same socket and require_hwrng; each applies its own limits to it.
  // Limits of 0 throw std::invalid_argument.
  bool local_generator = true;
  // The local generator's cipher.  ChaCha20 is the daemon's own; AES-256-CTR
  // (the primitive of OpenSSL's default CTR-DRBG) runs about twice as fast on
  // a CPU with AES instructions, and is what the OpenSSL provider uses.  Both
  // are 256-bit fast-key-erasure generators with the same reseed rules.
  LocalCipher local_cipher = LocalCipher::chacha20;
  std::size_t reseed_bytes = std::size_t{1} << 20;
  std::chrono::milliseconds reseed_interval{60000};
  // Empty: the monotonic clock.  Tests inject one to move time; clients
  // sharing a thread's generator should share the clock too.
  std::function<std::chrono::steady_clock::time_point()> clock;
};

inline constexpr std::string_view kUppercase = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
inline constexpr std::string_view kLowercase = "abcdefghijklmnopqrstuvwxyz";
inline constexpr std::string_view kDigits = "0123456789";
inline constexpr std::string_view kSymbols = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

// A password is drawn uniformly from all strings of `length` characters of
// `alphabet` that hold at least the given number of each class, exactly and
// in bounded time however few strings those are.  password() throws
// std::invalid_argument when none is (the minimums exceed the length, or name
// a class the alphabet lacks), and for a length above 4096 with two or more
// minimums.
struct PasswordPolicy {
  std::size_t length = 20;
  std::string alphabet = std::string(kUppercase) + std::string(kLowercase) +
                         std::string(kDigits) + std::string(kSymbols);
  std::size_t min_upper = 0;
  std::size_t min_lower = 0;
  std::size_t min_digits = 0;
  std::size_t min_symbols = 0;  // symbols: any alphabet character that is not a letter or digit
};

inline constexpr std::size_t kDefaultPassphraseWords = 6;
inline constexpr const char* kDefaultWordlist = "/usr/share/dict/words";

struct Health {
  enum class State { ok, degraded, failed };
  State state;
  std::string reason;  // empty when ok
};

using StatusReport = std::vector<std::pair<std::string, std::string>>;

// Fills `out` with random bytes honouring `flags`.  Client::from_source takes
// one, so the consumers of randomness can be tested without a daemon.
using ByteSource = std::function<void(std::span<std::uint8_t> out, RequestFlags flags)>;

class RNGPOOL_API Client {
 public:
  Client();
  explicit Client(std::string socket_path);
  explicit Client(ClientOptions options);
  // A client whose bytes come from `source` instead of rngpoold (tests only:
  // status(), health() and ping() throw std::logic_error).
  static Client from_source(ByteSource source);

  // A view sharing this client's connection whose requests carry `flags`.
  Client with(RequestFlags flags) const;
  const std::string& socket_path() const noexcept;
  RequestFlags flags() const noexcept { return flags_; }

  // ---- Python's secrets ----
  void fill(std::span<std::uint8_t> out) const;  // streamed, straight into `out`
  std::vector<std::uint8_t> token_bytes(std::size_t nbytes = kDefaultTokenBytes) const;
  std::string token_hex(std::size_t nbytes = kDefaultTokenBytes) const;
  std::string token_urlsafe(std::size_t nbytes = kDefaultTokenBytes) const;  // base64url, unpadded
  std::uint64_t randbelow(std::uint64_t n) const;  // uniform on [0, n); n = 0 throws std::invalid_argument
  std::uint64_t randbits(unsigned k) const;        // k <= 64

  template <std::ranges::random_access_range R>
    requires std::ranges::sized_range<R>
  decltype(auto) choice(R&& population) const {
    const auto size = static_cast<std::uint64_t>(std::ranges::size(population));
    if (size == 0) {
      throw std::invalid_argument("rngpool: choice from an empty range");
    }
    return std::ranges::begin(population)[static_cast<std::ptrdiff_t>(randbelow(size))];
  }

  // ---- beyond secrets ----
  // k elements at distinct positions, every ordered selection equally likely.
  template <std::ranges::random_access_range R>
    requires std::ranges::sized_range<R>
  std::vector<std::ranges::range_value_t<R>> sample(const R& population, std::size_t k) const {
    std::vector<std::ranges::range_value_t<R>> picked;
    picked.reserve(k);
    for (std::size_t position : sample_positions(std::ranges::size(population), k)) {
      picked.push_back(std::ranges::begin(population)[static_cast<std::ptrdiff_t>(position)]);
    }
    return picked;
  }

  // Fisher–Yates: every permutation equally likely.
  template <std::ranges::random_access_range R>
    requires std::ranges::sized_range<R>
  void shuffle(R&& range) const {
    auto first = std::ranges::begin(range);
    const auto swaps = shuffle_swaps(std::ranges::size(range));
    std::size_t i = swaps.size();
    for (std::size_t j : swaps) {
      std::ranges::iter_swap(first + static_cast<std::ptrdiff_t>(i),
                             first + static_cast<std::ptrdiff_t>(j));
      --i;
    }
  }

  std::string password(const PasswordPolicy& policy = {}) const;
  // `words` words drawn uniformly (with repetition) from `wordlist`'s lowercase
  // ASCII words, deduplicated; empty path: kDefaultWordlist.
  std::string passphrase(std::size_t words = kDefaultPassphraseWords,
                         const std::string& wordlist = {}, std::string_view separator = " ") const;

  // The positions behind sample() and shuffle(), for non-template callers:
  // sample_positions returns k distinct indices below n in random order;
  // shuffle_swaps(n)[t] is the partner of index n-1-t in Fisher–Yates.
  std::vector<std::size_t> sample_positions(std::size_t n, std::size_t k) const;
  std::vector<std::size_t> shuffle_swaps(std::size_t n) const;

  // ---- the daemon ----
  StatusReport status() const;
  Health health() const;
  std::chrono::nanoseconds ping() const;  // round-trip time

  class State;

 private:
  Client(std::shared_ptr<State> state, RequestFlags flags);
  std::shared_ptr<State> state_;
  RequestFlags flags_;
};

// Constant time in the contents (the time depends only on the lengths), so an
// attacker timing the comparison learns nothing about a secret digest.
RNGPOOL_API bool compare_digest(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b);
RNGPOOL_API bool compare_digest(std::string_view a, std::string_view b);

}  // namespace rngpool
