// One client connection: straight-line C++20 coroutine code (issue 3 §2).
//
// The first byte decides the mode: an ASCII letter starts the text protocol
// (text_mode.cpp), anything else goes to the binary decoder (binary_mode.cpp),
// which answers a byte that is not the magic with BAD_FRAME and closes
// (PROTOCOL.md §1).  Both modes use what this class provides: reading,
// replies batched into one OutputBuffer, random payloads streamed chunk by
// chunk, the wait for the first seed, and the idle deadline.
//
// Errors while writing throw (the client is gone or timed out) and unwind the
// coroutine to run(), which only logs them; reads report end of stream as
// "no input", because that is how every healthy connection ends.
//
// Why two ways to answer: a coroutine frame, and the trip through Asio that
// every co_await of one costs, is most of what a 32-byte request would cost.
// So each mode answers the common case -- seeded, the reply fits into the
// chunk -- with plain calls (answer_at_once), and only a request that has to
// wait for room or for the seed goes through the coroutine (answer).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>

#include "rngpool/protocol/frame.hpp"
#include "server/asio.hpp"
#include "server/output_buffer.hpp"
#include "server/server_context.hpp"

namespace rngpool::server {

class ConnectionSet;

enum class Encoding { raw, hex, base64 };

// How far a mode got with one request.
enum class Answered {
  yes,         // the reply is in out()
  not_at_once, // answer_at_once() changed nothing: it needs answer()
  close,       // the reply is in out(); the connection ends after it
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(UnixSocket socket, ServerContext& context, ConnectionSet& set, std::uint64_t id);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  static void start(const std::shared_ptr<Connection>& connection);
  // Shutdown: finish the reply being written, then close.  An idle
  // connection closes at once.
  void drain();
  void close();

  // --- for the protocol modes ---
  // The loop both modes share: answer every request in what was read, in
  // order, write the replies in one go, read more.  A Mode has a `decoder`
  // (feed(), next() -> monostate or a request or an error) and
  //   Answered answer_at_once(const Result&);            plain calls
  //   asio::awaitable<Answered> answer(const Result&);   anything else
  template <typename Mode>
  asio::awaitable<void> serve_requests(Mode& mode, std::span<const std::uint8_t> input);
  ServerContext& context() { return context_; }
  OutputBuffer& out() { return out_; }
  // Reading is two calls, so that the loop needs no coroutine of its own:
  //   error_code ec; co_await readable(ec); auto input = take_input(ec);
  // take_input() says nullopt when the connection ends (end of stream, an
  // error, shutdown), and an empty span when there was nothing to read after
  // all: wait again.
  using Input = std::span<const std::uint8_t>;
  asio::awaitable<void> readable(error_code& ec);
  std::optional<Input> take_input(error_code ec);
  // A complete request arrived: the idle clock restarts.
  void request_received();
  // Writes what out() holds.
  asio::awaitable<void> flush();
  // flush() in two steps: write what the socket takes at once, and only when
  // that was not all, wait to write the rest.
  bool write_at_once();
  asio::awaitable<void> write_rest();
  // Flushes first when fewer than `n` bytes are left in out().
  asio::awaitable<void> make_room(std::size_t n);
  bool fits(std::size_t n) const { return n <= out_.room(); }
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

 private:
  static asio::awaitable<void> run(std::shared_ptr<Connection> self);
  static asio::awaitable<void> watch_deadline(std::shared_ptr<Connection> self);
  asio::awaitable<void> yield();
  asio::awaitable<void> serve();
  asio::awaitable<protocol::Status> wait_for_admission(std::uint16_t flags);
  void log_peer() const;
  void written();

  static constexpr std::size_t kReadSize = 4096;

  UnixSocket socket_;
  ServerContext& context_;
  ConnectionSet& set_;
  std::uint64_t id_;
  OutputBuffer out_;
  asio::steady_timer deadline_timer_;
  asio::steady_timer wait_timer_;
  SteadyClock::time_point deadline_;
  bool reading_ = false;
  bool waiting_ = false;
  bool draining_ = false;
  std::size_t sent_ = 0;  // of out(), by write_at_once()
  std::array<std::uint8_t, kReadSize> input_;
};

// ---------------------------------------------------------------------------
// The request loop
//
// One coroutine frame for the life of the connection: a request answered at
// once costs no co_await, and a batch whose replies the socket takes at once
// costs one: the wait for the next requests.
// ---------------------------------------------------------------------------

template <typename Mode>
asio::awaitable<void> Connection::serve_requests(Mode& mode, std::span<const std::uint8_t> input) {
  for (;;) {
    if (!input.empty())
      input = input.subspan(mode.decoder.feed(input));
    auto next = mode.decoder.next();
    if (std::holds_alternative<std::monostate>(next)) {  // all read is answered
      if (!write_at_once())
        co_await write_rest();
      error_code ec;
      co_await readable(ec);
      auto more = take_input(ec);
      if (!more)
        co_return;
      input = *more;
      continue;
    }
    request_received();
    Answered answered = mode.answer_at_once(next);
    if (answered == Answered::not_at_once)
      answered = co_await mode.answer(next);
    if (answered == Answered::close) {
      co_await flush();
      co_return;
    }
  }
}

}  // namespace rngpool::server
