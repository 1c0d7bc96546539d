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
// coroutine to run(), which only logs them; reads report end of stream as an
// empty span, because that is how every healthy connection ends.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "rngpool/protocol/frame.hpp"
#include "server/asio.hpp"
#include "server/output_buffer.hpp"
#include "server/server_context.hpp"

namespace rngpool::server {

class ConnectionSet;

enum class Encoding { raw, hex, base64 };

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
  // The loop both modes share: answer every request in what was read
  // (`answer_batch` returns false when the connection must end), write the
  // replies in one go, read more.
  using BatchAnswerer = std::function<asio::awaitable<bool>(std::span<const std::uint8_t>)>;
  asio::awaitable<void> serve_batches(std::span<const std::uint8_t> input, BatchAnswerer answer_batch);
  ServerContext& context() { return context_; }
  OutputBuffer& out() { return out_; }
  // The next bytes from the client; empty at end of stream, after an error,
  // or when the daemon is shutting down.
  asio::awaitable<std::span<const std::uint8_t>> read_some();
  // A complete request arrived: the idle clock restarts.
  void request_received();
  // Writes and wipes what out() holds.
  asio::awaitable<void> flush();
  // Flushes first when fewer than `n` bytes are left in out().
  asio::awaitable<void> make_room(std::size_t n);
  // Whether a random request may be served, waiting for the first seed (or
  // the hwrng) at most until the idle deadline: ok, not_ready or
  // hwrng_unavailable.  Reseeds first for PREDICTION_RESISTANCE.
  asio::awaitable<protocol::Status> admit(std::uint16_t flags);
  // The message that goes with a refusal from admit().
  std::string refusal(protocol::Status status) const;
  // TOO_LARGE message for counts above --max-request, empty otherwise.
  std::string check_size(std::uint64_t count) const;
  // Appends `count` fresh random bytes to out(), encoded, flushing whenever
  // a chunk is full.
  asio::awaitable<void> send_random(std::size_t count, Encoding encoding);
  // Counts a reply for STATUS.
  void count_reply(protocol::Status status, bool random_request);

 private:
  static asio::awaitable<void> run(std::shared_ptr<Connection> self);
  static asio::awaitable<void> watch_deadline(std::shared_ptr<Connection> self);
  asio::awaitable<void> yield();
  asio::awaitable<void> serve();
  asio::awaitable<protocol::Status> wait_for_admission(std::uint16_t flags);
  void log_peer() const;

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
  std::array<std::uint8_t, kReadSize> input_;
};

}  // namespace rngpool::server
