// Client: Python's secrets over a byte source.
#include "rngpool/client.hpp"

#include "daemon_link.hpp"
#include "draws.hpp"
#include "state.hpp"

#include "rngpool/protocol/encoding.hpp"

#include <unordered_map>

#include <openssl/crypto.h>

namespace rngpool {

// ---------------------------------------------------------------------------
// Where bytes come from
//
// A caller's ByteSource stands in for the daemon in tests.  It has no daemon
// to ask for status, so those calls say so rather than invent an answer.
// ---------------------------------------------------------------------------

namespace {

class SourceState final : public Client::State {
 public:
  explicit SourceState(ByteSource source) : source_(std::move(source)) {}
  const std::string& socket_path() const noexcept override { return name_; }
  void fill(std::span<std::uint8_t> out, RequestFlags flags) override { source_(out, flags); }
  StatusReport status() override { throw no_daemon(); }
  Health health() override { throw no_daemon(); }
  std::chrono::nanoseconds ping() override { throw no_daemon(); }

 private:
  static std::logic_error no_daemon() {
    return std::logic_error("rngpool: a Client over a ByteSource has no daemon to ask");
  }
  ByteSource source_;
  std::string name_ = "(byte source)";
};

}  // namespace

Client::Client() : Client(ClientOptions{}) {}
static ClientOptions options_for(std::string socket_path) {
  ClientOptions options;
  options.socket_path = std::move(socket_path);
  return options;
}

Client::Client(std::string socket_path) : Client(options_for(std::move(socket_path))) {}
Client::Client(ClientOptions options)
    : state_(std::make_shared<detail::DaemonLink>(std::move(options))), flags_{} {}
Client::Client(std::shared_ptr<State> state, RequestFlags flags)
    : state_(std::move(state)), flags_(flags) {}

Client Client::from_source(ByteSource source) {
  return Client(std::make_shared<SourceState>(std::move(source)), RequestFlags{});
}

Client Client::with(RequestFlags flags) const { return Client(state_, flags_ | flags); }
const std::string& Client::socket_path() const noexcept { return state_->socket_path(); }

void Client::fill(std::span<std::uint8_t> out) const { state_->fill(out, flags_); }
StatusReport Client::status() const { return state_->status(); }
Health Client::health() const { return state_->health(); }
std::chrono::nanoseconds Client::ping() const { return state_->ping(); }

// ---------------------------------------------------------------------------
// Tokens
//
// The raw bytes of an encoded token are wiped once encoded: the token is the
// secret the caller keeps, and one copy of it is enough.
// ---------------------------------------------------------------------------

std::vector<std::uint8_t> Client::token_bytes(std::size_t nbytes) const {
  std::vector<std::uint8_t> bytes(nbytes);
  fill(bytes);
  return bytes;
}

template <typename Encode>
static std::string encoded_token(const Client& client, std::size_t nbytes, Encode encode) {
  std::vector<std::uint8_t> bytes = client.token_bytes(nbytes);
  std::string token = encode(bytes);
  OPENSSL_cleanse(bytes.data(), bytes.size());
  return token;
}

std::string Client::token_hex(std::size_t nbytes) const {
  return encoded_token(*this, nbytes, protocol::to_hex);
}

std::string Client::token_urlsafe(std::size_t nbytes) const {
  return encoded_token(*this, nbytes, protocol::to_base64url);
}

// ---------------------------------------------------------------------------
// Integers
// ---------------------------------------------------------------------------

std::uint64_t Client::randbelow(std::uint64_t n) const {
  if (n == 0) throw std::invalid_argument("rngpool: randbelow(0): the upper bound must be positive");
  detail::Draws draws(*this, 1);
  return draws.below(n);
}

std::uint64_t Client::randbits(unsigned k) const {
  if (k > 64) throw std::invalid_argument("rngpool: randbits(k) needs k <= 64");
  if (k == 0) return 0;
  detail::Draws draws(*this, 1);
  return draws.next_u64() >> (64 - k);
}

// ---------------------------------------------------------------------------
// Positions for sample() and shuffle()
//
// Both are Fisher–Yates (Knuth, TAOCP vol. 2, Algorithm 3.4.2P): position i
// swaps with a uniform j in [i, n).  sample() stops after k steps, keeping
// only the displaced positions in a map, so sampling 5 of 10^9 costs 5 steps
// and 5 entries, not an array of 10^9.
// ---------------------------------------------------------------------------

std::vector<std::size_t> Client::sample_positions(std::size_t n, std::size_t k) const {
  if (k > n) {
    throw std::invalid_argument("rngpool: sample of " + std::to_string(k) + " from a population of " +
                                std::to_string(n));
  }
  detail::Draws draws(*this, k);
  std::unordered_map<std::size_t, std::size_t> displaced;
  const auto at = [&](std::size_t position) {
    const auto it = displaced.find(position);
    return it == displaced.end() ? position : it->second;
  };
  std::vector<std::size_t> picked;
  picked.reserve(k);
  for (std::size_t i = 0; i < k; ++i) {
    const std::size_t j = i + draws.below(n - i);
    picked.push_back(at(j));
    displaced[j] = at(i);
  }
  return picked;
}

std::vector<std::size_t> Client::shuffle_swaps(std::size_t n) const {
  std::vector<std::size_t> swaps;
  if (n < 2) return swaps;
  swaps.reserve(n - 1);
  detail::Draws draws(*this, n - 1);
  for (std::size_t i = n - 1; i > 0; --i) {
    swaps.push_back(draws.below(i + 1));
  }
  return swaps;
}

}  // namespace rngpool
