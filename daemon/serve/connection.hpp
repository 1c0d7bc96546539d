// One client connection.
//
// Two ways to answer, because a 32-byte request is cheap and every step
// through Asio is not:
//
//   The fast path: ready(), called by the ClientPoller when the socket is
//   readable.  Plain calls: read, decode, answer every request the mode can
//   answer at once (seeded, the reply fits into the chunk), write without
//   blocking.  Most requests never leave it.
//
//   The slow path: one coroutine per connection (serve()), straight-line
//   co_await code, parked while the fast path runs.  The fast path hands
//   over whatever needs a wait -- room in the socket, the first seed, a
//   reply bigger than a chunk, STATUS, an error reply, the end -- and the
//   coroutine finishes it and parks again.
//
// On the main socket the first byte decides the mode: an ASCII letter or a
// blank starts the text protocol (text_mode.cpp), anything else goes to the
// binary decoder (binary_mode.cpp), which answers a byte that is not the
// magic with BAD_FRAME and closes (PROTOCOL.md §1).  On the EGD socket
// every connection speaks EGD (egd_mode.cpp, PROTOCOL.md §13).
//
// Errors while writing throw (the client is gone or timed out) and unwind the
// coroutine to run(), which only logs them; end of stream is how every
// healthy connection ends.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>

#include "rngpool/protocol/frame.hpp"
#include "runtime/asio.hpp"
#include "serve/client_poller.hpp"
#include "serve/output_buffer.hpp"
#include "serve/server_context.hpp"

namespace rngpool::server {

class ConnectionSet;

enum class Encoding { raw, hex, base64 };

// How far a mode got.
enum class Answered {
  yes,         // the replies are in out()
  not_at_once, // stopped at a request only the coroutine can answer
  close,       // the replies are in out(); the connection ends after them
};

using Input = std::span<const std::uint8_t>;

// A protocol mode on one connection (binary_mode.cpp, text_mode.cpp).
class Session {
 public:
  virtual ~Session() = default;
  // Answers requests from `input`, in order, with plain calls while it can,
  // and drops from `input` what it decoded.
  virtual Answered answer_at_once(Input& input) = 0;
  // Answers the request answer_at_once() stopped at.
  virtual asio::awaitable<Answered> answer_next() = 0;
};

class Connection final : public ClientPoller::Client, public std::enable_shared_from_this<Connection> {
 public:
  // Takes ownership of `fd`, a connected Unix stream socket whose
  // SO_PEERCRED is `peer` (nullopt: it could not be read).
  Connection(int fd, ServerContext& context, ConnectionSet& set, std::uint64_t id, std::optional<ucred> peer,
             Frontend frontend = Frontend::binary);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  static void start(const std::shared_ptr<Connection>& connection);
  // Shutdown: finish the reply being written, then close.  An idle
  // connection closes at once.
  void drain();
  void close();
  // A reload changed the access lists: decide again who this client may be.
  void recheck_access();

  // --- for the protocol modes ---
  ServerContext& context() { return context_; }
  OutputBuffer& out() { return out_; }
  // A complete request arrived: the idle clock restarts.
  void request_received();
  // Writes what out() holds.
  asio::awaitable<void> flush();
  // Flushes first when fewer than `n` bytes are left in out().
  asio::awaitable<void> make_room(std::size_t n);
  // Whether `n` bytes can be appended to out() at once: there is room in its
  // chunk, and a chunk for it under --max-output-memory.
  bool fits(std::size_t n) const {
    return n <= out_.room() && (out_.holds_chunk() || context_.chunks.has_room(context_.limits.max_output_memory));
  }
  // Whether a random request may be served, waiting for the first seed (or
  // the hwrng) at most until the idle deadline: ok, not_ready or
  // hwrng_unavailable.  Reseeds first for PREDICTION_RESISTANCE.
  asio::awaitable<protocol::Status> admit(std::uint16_t flags);
  // admit() when it would say ok without waiting; false changes nothing.
  bool admit_at_once(std::uint16_t flags);
  // The message that goes with a refusal from admit().
  std::string refusal(protocol::Status status) const;
  bool too_large(std::uint64_t count) const { return count > context_.limits.max_request; }
  // The TOO_LARGE message for a count too_large() refuses.
  std::string too_large_message(std::uint64_t count) const;
  // Appends `count` fresh random bytes to out(), encoded, flushing whenever
  // a chunk is full.
  asio::awaitable<void> send_random(std::size_t count, Encoding encoding);
  // Bytes the encoding of `count` random bytes takes in out().
  static std::size_t encoded_size(std::size_t count, Encoding encoding);
  // Appends `count` fresh random bytes, encoded; needs
  // fits(encoded_size(count, encoding)).
  void append_random(std::size_t count, Encoding encoding);
  // Counts a reply for STATUS.
  void count_reply(protocol::Status status, bool random_request);
  // Whether --allow-user/--allow-group let this client ask for more than
  // PING (PROTOCOL.md §6.1); decided once, when it connected.
  bool allowed() const { return allowed_; }
  std::optional<uid_t> peer_uid() const { return peer_uid_; }
  // The PERMISSION_DENIED message for a client allowed() refuses.
  std::string permission_denied() const;

 private:
  using Interest = ClientPoller::Interest;
  enum class Handover { none, requests, end };
  enum class Write { done, blocked, failed };

  void ready() override;
  void answer_input(Input input);
  std::optional<Input> read_input();
  void hand_over(Handover handover);
  void watch(Interest interest);
  void wake();

  static asio::awaitable<void> run(std::shared_ptr<Connection> self);
  asio::awaitable<void> serve();
  asio::awaitable<bool> handed_over();
  asio::awaitable<bool> woken_before_deadline();
  asio::awaitable<void> sleep_until(SteadyClock::time_point time);
  asio::awaitable<void> wait_writable();
  asio::awaitable<void> hold_chunk();
  asio::awaitable<void> yield();
  asio::awaitable<protocol::Status> wait_for_admission(std::uint16_t flags);
  Write write_at_once();
  void written();
  void identify_peer(const std::optional<ucred>& peer);
  void extend_deadline();

  static constexpr std::size_t kReadSize = 4096;

  int fd_;
  ServerContext& context_;
  ConnectionSet& set_;
  std::uint64_t id_;
  OutputBuffer out_;
  asio::steady_timer wake_;  // every wait of the coroutine; cancel() wakes it
  SteadyClock::time_point deadline_;
  SteadyClock::time_point latest_ = SteadyClock::time_point::max();  // no deadline moves past it
  Interest interest_ = Interest::none;
  Handover handover_ = Handover::none;
  bool woken_ = false;
  bool draining_ = false;
  bool allowed_ = true;
  std::optional<uid_t> peer_uid_;  // SO_PEERCRED, when it could be read
  std::unique_ptr<Session> session_;
  // The socket it came in on (egd, or binary for the main one), then what the
  // first byte chose; the metrics count its requests under it.
  Frontend frontend_;
  std::uint64_t random_bytes_ = 0;        // served on this connection: a request's size is the difference
  std::uint64_t random_bytes_at_request_ = 0;
  SteadyClock::time_point request_time_{};  // when its last request was read
  Input pending_;            // read, not yet decoded: what the coroutine takes over
  Answered outcome_ = Answered::yes;  // where the fast path stopped
  std::size_t sent_ = 0;     // of out()
  int write_error_ = 0;
  std::array<std::uint8_t, kReadSize> input_;
};

// ---------------------------------------------------------------------------
// Modes as sessions
//
// A Mode has a `decoder` (feed(), next() -> monostate or a request or an
// error) and
//   Answered answer_at_once(const Result&);            plain calls
//   asio::awaitable<Answered> answer(const Result&);   anything else
// ModeSession is the loop both modes share.
// ---------------------------------------------------------------------------

template <typename Mode>
class ModeSession final : public Session {
 public:
  explicit ModeSession(Connection& connection) : connection_(connection), mode_{connection, {}} {}

  Answered answer_at_once(Input& input) override {
    for (;;) {
      if (!input.empty())
        input = input.subspan(mode_.decoder.feed(input));
      next_ = mode_.decoder.next();
      if (std::holds_alternative<std::monostate>(next_))  // all read is answered
        return Answered::yes;
      connection_.request_received();
      Answered answered = mode_.answer_at_once(next_);
      if (answered != Answered::yes)
        return answered;
    }
  }

  asio::awaitable<Answered> answer_next() override { return mode_.answer(next_); }

 private:
  Connection& connection_;
  Mode mode_;
  decltype(mode_.decoder.next()) next_;
};

}  // namespace rngpool::server
