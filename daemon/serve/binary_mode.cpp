#include "serve/binary_mode.hpp"

#include <string>
#include <variant>

#include "rngpool/protocol/status_report.hpp"
#include "runtime/log.hpp"
#include "serve/status.hpp"

namespace rngpool::server {

using protocol::Opcode;
using protocol::Status;

namespace {

// ---------------------------------------------------------------------------
// Replies
//
// Every reply is appended to the connection's output and goes out with the
// others of the same batch.  GET_RANDOM's header goes first and its payload
// streams after it in chunks (PROTOCOL.md §5.1: one frame, possibly several
// writes).
// ---------------------------------------------------------------------------

void append_header(OutputBuffer& out, const protocol::Header& header) {
  auto bytes = out.extend(protocol::kHeaderSize);
  protocol::encode_header(header, protocol::HeaderBytes(bytes.data(), protocol::kHeaderSize));
}

asio::awaitable<void> reply_error(Connection& connection, std::uint8_t opcode, std::uint32_t request_id,
                                  Status status, std::string_view message) {
  auto frame = protocol::encode_error_reply(opcode, request_id, status, message);
  co_await connection.make_room(frame.size());
  connection.out().append(frame);
  connection.count_reply(status, false);
}

asio::awaitable<void> answer_get_random(Connection& connection, const protocol::Request& request) {
  const auto opcode = request.header.opcode;
  const auto id = request.header.request_id;
  if (connection.too_large(request.count)) {
    co_await reply_error(connection, opcode, id, Status::too_large, connection.too_large_message(request.count));
    co_return;
  }
  Status status = co_await connection.admit(request.header.flags);
  if (status != Status::ok) {
    co_await reply_error(connection, opcode, id, status, connection.refusal(status));
    co_return;
  }
  co_await connection.make_room(protocol::kHeaderSize);
  append_header(connection.out(), protocol::reply_header(Opcode::get_random, id, Status::ok, request.count));
  co_await connection.send_random(request.count, Encoding::raw);
  connection.count_reply(Status::ok, true);
}

asio::awaitable<void> answer_status(Connection& connection, const protocol::Request& request) {
  std::string report = protocol::format_status_report(status_report(connection.context()));
  auto length = static_cast<std::uint32_t>(report.size());
  co_await connection.make_room(protocol::kHeaderSize + report.size());
  append_header(connection.out(), protocol::reply_header(Opcode::status, request.header.request_id, Status::ok, length));
  connection.out().append(report);
  connection.count_reply(Status::ok, false);
}

void append_ping_reply(Connection& connection, const protocol::Request& request) {
  append_header(connection.out(), protocol::reply_header(Opcode::ping, request.header.request_id, Status::ok, 0));
  connection.count_reply(Status::ok, false);
}

asio::awaitable<void> answer_ping(Connection& connection, const protocol::Request& request) {
  co_await connection.make_room(protocol::kHeaderSize);
  append_ping_reply(connection, request);
}

// ---------------------------------------------------------------------------
// At once
//
// GET_RANDOM from a seeded daemon whose reply fits into what is left of the
// chunk, and PING: the requests a busy client sends, answered without a
// coroutine.  Anything else -- errors (PERMISSION_DENIED among them), STATUS,
// waiting for the seed or for room -- goes the general way, which says the
// same in more steps.
// ---------------------------------------------------------------------------

bool get_random_at_once(Connection& connection, const protocol::Request& request) {
  if (!connection.allowed() || connection.too_large(request.count) ||
      !connection.fits(protocol::kHeaderSize + request.count) || !connection.admit_at_once(request.header.flags))
    return false;
  append_header(connection.out(), protocol::reply_header(Opcode::get_random, request.header.request_id,
                                                         Status::ok, request.count));
  connection.append_random(request.count, Encoding::raw);
  connection.count_reply(Status::ok, true);
  return true;
}

bool ping_at_once(Connection& connection, const protocol::Request& request) {
  if (!connection.fits(protocol::kHeaderSize))
    return false;
  append_ping_reply(connection, request);
  return true;
}

// ---------------------------------------------------------------------------
// Requests and decode errors
//
// Requests are answered in order (PROTOCOL.md §9).  A fatal decode error is
// answered and ends the connection: after it the daemon cannot tell where
// the next frame starts.
//
// A client --allow-user/--allow-group leaves out gets PERMISSION_DENIED for
// every opcode but PING (PROTOCOL.md §6.1), before any other check, so a
// refused client learns nothing but that the daemon is alive.  An opcode
// added later is refused too until someone decides otherwise.
// ---------------------------------------------------------------------------

bool needs_permission(Opcode opcode) { return opcode != Opcode::ping; }

struct BinaryMode {
  Connection& connection;
  protocol::RequestDecoder decoder;

  Answered answer_at_once(const protocol::RequestDecoder::Result& next) {
    const auto* request = std::get_if<protocol::Request>(&next);
    bool done = request != nullptr &&
                ((request->opcode == Opcode::get_random && get_random_at_once(connection, *request)) ||
                 (request->opcode == Opcode::ping && ping_at_once(connection, *request)));
    return done ? Answered::yes : Answered::not_at_once;
  }

  asio::awaitable<Answered> answer(const protocol::RequestDecoder::Result& next) {
    if (const auto* request = std::get_if<protocol::Request>(&next)) {
      co_await answer_request(*request);
      co_return Answered::yes;
    }
    const auto& error = std::get<protocol::DecodeError>(next);
    co_await reply_error(connection, error.opcode, error.request_id, error.status, error.reason);
    if (!protocol::is_fatal(error.status))
      co_return Answered::yes;
    log(LogLevel::debug, "closing a client after ", protocol::status_name(error.status), ": ", error.reason);
    co_return Answered::close;
  }

  asio::awaitable<void> answer_request(const protocol::Request& request) {
    if (needs_permission(request.opcode) && !connection.allowed()) {
      co_await reply_error(connection, request.header.opcode, request.header.request_id,
                           Status::permission_denied, connection.permission_denied());
      co_return;
    }
    switch (request.opcode) {
      case Opcode::get_random:
        co_await answer_get_random(connection, request);
        break;
      case Opcode::status:
        co_await answer_status(connection, request);
        break;
      case Opcode::ping:
        co_await answer_ping(connection, request);
        break;
    }
  }
};

}  // namespace

std::unique_ptr<Session> binary_session(Connection& connection) {
  return std::make_unique<ModeSession<BinaryMode>>(connection);
}

}  // namespace rngpool::server
