#include "serve/egd_mode.hpp"

#include <unistd.h>

#include <string>
#include <variant>

#include "generator/secure_memory.hpp"
#include "runtime/log.hpp"
#include "serve/egd_decoder.hpp"

namespace rngpool::server {

using protocol::Status;
using Kind = EgdRequest::Kind;

namespace {

// ---------------------------------------------------------------------------
// What the pool can give
//
// The pool never runs dry once seeded, so "entropy available" (0x00) cannot
// be a level that drains: it says how much a 0x01 gets at once -- the
// largest 0x01, 255 bytes, 2040 bits, while random requests are served
// without waiting, and 0 while they would wait (before the first seed, or
// under --require-hwrng until the hwrng is in the key) or are refused.
// Consumers take the value as a hint only (PROTOCOL.md §13.3).
// ---------------------------------------------------------------------------

constexpr std::uint32_t kAvailableBits = 8 * 255;

bool serves_now(Connection& connection) {
  return connection.allowed() && connection.context().entropy.admission(false) == Admission::serve;
}

void append_u32(OutputBuffer& out, std::uint32_t value) {
  const std::uint8_t bytes[4] = {static_cast<std::uint8_t>(value >> 24), static_cast<std::uint8_t>(value >> 16),
                                 static_cast<std::uint8_t>(value >> 8), static_cast<std::uint8_t>(value)};
  out.append(std::span<const std::uint8_t>(bytes));
}

void append_u8(OutputBuffer& out, std::uint8_t value) { out.append(std::span<const std::uint8_t>(&value, 1)); }

// 0x04: the daemon's pid, as a length byte and ASCII digits.
std::string pid_text() { return std::to_string(::getpid()); }

// ---------------------------------------------------------------------------
// Replies
//
// Each reply is appended to the connection's output like a binary-mode one;
// the random bytes are generated straight into it.  Every helper first checks
// that the reply fits into what is left of the chunk, so the fast path can
// try it and leave it to the coroutine, which makes room, when it does not.
// ---------------------------------------------------------------------------

EgdStats& stats(Connection& connection) { return connection.context().stats.egd; }

// Every request counts in STATUS's egd_requests; a random-byte one (0x01,
// 0x02) also in the metrics' requests by front-end, as the main socket counts
// GET_RANDOM, HEX and BASE64 there but not PING or STATUS.
void answered(Connection& connection) { ++stats(connection).requests; }

void served(Connection& connection, std::size_t bytes) {
  answered(connection);
  stats(connection).bytes += bytes;
  connection.context().stats.requests.count_reply(Frontend::egd, protocol::Status::ok);
}

bool entropy_level(Connection& connection) {
  if (!connection.fits(4))
    return false;
  append_u32(connection.out(), serves_now(connection) ? kAvailableBits : 0);
  answered(connection);
  return true;
}

bool pid(Connection& connection) {
  const std::string text = pid_text();
  if (!connection.fits(1 + text.size()))
    return false;
  append_u8(connection.out(), static_cast<std::uint8_t>(text.size()));
  connection.out().append(text);
  answered(connection);
  return true;
}

// 0x01: what can be had without waiting -- all n, or nothing while the daemon
// would wait.  A daemon that refuses (--require-hwrng, hwrng gone) is left to
// the coroutine, which closes.
bool read_nonblocking(Connection& connection, std::uint8_t n) {
  const Admission admission = connection.context().entropy.admission(false);
  if (admission == Admission::hwrng_unavailable)
    return false;
  const std::uint8_t count = admission == Admission::serve ? n : 0;
  if (!connection.fits(1 + std::size_t{count}))
    return false;
  append_u8(connection.out(), count);
  if (count > 0)
    connection.append_random(count, Encoding::raw);
  served(connection, count);
  return true;
}

bool read_blocking(Connection& connection, std::uint8_t n) {
  if (!connection.fits(n) || !connection.admit_at_once(0))
    return false;
  connection.append_random(n, Encoding::raw);
  served(connection, n);
  return true;
}

// 0x03: only root may add (SO_PEERCRED uid 0); from anyone else the bytes are
// dropped and counted.  Either way there is no reply: EGD has none for 0x03.
// Root's bytes are auxiliary input (pool.hpp): mixed into the key at the
// next reseed, never taken for the hwrng, the claimed bits never credited.
void add_entropy(Connection& connection, EgdRequest& request) {
  if (connection.peer_uid() == 0) {
    connection.context().entropy.add_auxiliary(request.bytes);
    ++stats(connection).adds_accepted;
    stats(connection).bytes_added += request.bytes.size();
  } else {
    ++stats(connection).adds_refused;
  }
  core::wipe(std::span(request.bytes));
  answered(connection);
}

// ---------------------------------------------------------------------------
// Ending a connection
//
// An EGD client cannot be told why (the protocol has no error reply), so a
// refusal closes the connection after the replies before it, and STATUS
// counts the reason: a client --allow-user/--allow-group leaves out (at its
// first request), an unknown command byte, a random request the daemon
// refuses (--require-hwrng with the hwrng unavailable) or could not serve
// within the admission wait (PROTOCOL.md §5.1).  The metrics count the close
// under the status the main socket would have answered with, so refusals on
// both sockets show in rngpool_requests_total{status!="OK"}; STATUS's
// requests_refused stays the main socket's (PROTOCOL.md §10.4).
// ---------------------------------------------------------------------------

Answered close_for(Connection& connection, std::uint64_t& counter, Status status, std::string_view why) {
  ++counter;
  connection.context().stats.requests.count_reply(Frontend::egd, status);
  log(LogLevel::debug, "EGD client closed: ", why);
  return Answered::close;
}

Answered refused(Connection& connection, Status status) {
  EgdStats& s = stats(connection);
  return close_for(connection, status == Status::not_ready ? s.closed_not_ready : s.closed_hwrng_unavailable, status,
                   connection.refusal(status));
}

// ---------------------------------------------------------------------------
// The mode
//
// At once: everything a seeded daemon can answer into the current chunk.
// The coroutine: making room, waiting for the first seed (0x02), and the
// refusals, which close.
// ---------------------------------------------------------------------------

struct EgdMode {
  Connection& connection;
  EgdDecoder decoder;

  bool at_once(EgdRequest& request) {
    switch (request.kind) {
      case Kind::entropy_level:
        return entropy_level(connection);
      case Kind::read_nonblocking:
        return read_nonblocking(connection, request.count);
      case Kind::read_blocking:
        return read_blocking(connection, request.count);
      case Kind::add_entropy:
        add_entropy(connection, request);
        return true;
      case Kind::pid:
        return pid(connection);
    }
    return false;
  }

  Answered answer_at_once(EgdDecoder::Result& next) {
    auto* request = std::get_if<EgdRequest>(&next);
    return request && connection.allowed() && at_once(*request) ? Answered::yes : Answered::not_at_once;
  }

  asio::awaitable<Answered> answer(EgdDecoder::Result& next) {
    if (const auto* error = std::get_if<EgdError>(&next))
      co_return close_for(connection, stats(connection).closed_bad_command, Status::unknown_opcode, error->reason);
    if (!connection.allowed())
      co_return close_for(connection, stats(connection).closed_permission, Status::permission_denied,
                          connection.permission_denied());
    auto& request = std::get<EgdRequest>(next);
    if (request.kind == Kind::read_blocking)
      co_return co_await answer_read_blocking(request.count);
    // Room was missing, or 0x01 meets a refusing daemon.  An EGD reply is at
    // most 1 + 255 bytes; the state is read after the wait for room, with
    // nothing between it and the answer.
    co_await connection.make_room(1 + 255);
    if (request.kind == Kind::read_nonblocking &&
        connection.context().entropy.admission(false) == Admission::hwrng_unavailable)
      co_return refused(connection, Status::hwrng_unavailable);
    at_once(request);
    co_return Answered::yes;
  }

  asio::awaitable<Answered> answer_read_blocking(std::uint8_t n) {
    const Status status = co_await connection.admit(0);
    if (status != Status::ok)
      co_return refused(connection, status);
    co_await connection.send_random(n, Encoding::raw);
    served(connection, n);
    co_return Answered::yes;
  }
};

}  // namespace

std::unique_ptr<Session> egd_session(Connection& connection) {
  return std::make_unique<ModeSession<EgdMode>>(connection);
}

}  // namespace rngpool::server
