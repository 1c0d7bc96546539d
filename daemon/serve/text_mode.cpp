#include "serve/text_mode.hpp"

#include <string>
#include <variant>

#include "rngpool/protocol/status_report.hpp"
#include "rngpool/protocol/text.hpp"
#include "serve/status.hpp"

namespace rngpool::server {

using protocol::Status;
using protocol::TextCommand;

namespace {

// ---------------------------------------------------------------------------
// Permission
//
// As in binary mode (PROTOCOL.md §6.1): a client --allow-user/--allow-group
// leaves out may still PING, ask for HELP and QUIT, so a person at nc can
// tell "alive, but not for me" from a dead daemon; everything else, a
// command added later included, gets ERR PERMISSION_DENIED.
// ---------------------------------------------------------------------------

bool needs_permission(TextCommand::Kind kind) {
  return kind != TextCommand::Kind::ping && kind != TextCommand::Kind::help && kind != TextCommand::Kind::quit;
}

// ---------------------------------------------------------------------------
// Replies
//
// The same batching and chunking as binary mode; only the framing differs:
// lines instead of headers, errors as "ERR <CODE> <message>".
// ---------------------------------------------------------------------------

asio::awaitable<void> reply(Connection& connection, std::string_view text) {
  co_await connection.make_room(text.size());
  connection.out().append(text);
}

asio::awaitable<void> reply_error(Connection& connection, Status status, std::string_view reason) {
  co_await reply(connection, protocol::format_text_error(status, reason));
  connection.count_reply(status, false);
}

asio::awaitable<void> answer_random(Connection& connection, std::uint32_t count, Encoding encoding) {
  if (connection.too_large(count)) {
    co_await reply_error(connection, Status::too_large, connection.too_large_message(count));
    co_return;
  }
  Status status = co_await connection.admit(0);
  if (status != Status::ok) {
    co_await reply_error(connection, status, connection.refusal(status));
    co_return;
  }
  co_await connection.send_random(count, encoding);
  co_await reply(connection, "\n");
  connection.count_reply(Status::ok, true);
}

// The exposition ends in "\n" (Prometheus text format 0.0.4); the empty line
// after it ends the reply, as after STATUS, so `nc` knows when to stop reading.
asio::awaitable<void> answer_metrics(Connection& connection) {
  const auto& render = connection.context().metrics_text;
  if (!render) {
    co_await reply_error(connection, Status::internal, "metrics are not available in this daemon");
    co_return;
  }
  co_await reply(connection, render() + "\n");
}

Encoding encoding_of(const TextCommand& command) {
  return command.kind == TextCommand::Kind::hex ? Encoding::hex : Encoding::base64;
}

asio::awaitable<Answered> answer_command(Connection& connection, const TextCommand& command) {
  if (needs_permission(command.kind) && !connection.allowed()) {
    co_await reply_error(connection, Status::permission_denied, connection.permission_denied());
    co_return Answered::yes;
  }
  switch (command.kind) {
    case TextCommand::Kind::ping:
      co_await reply(connection, "PONG\n");
      break;
    case TextCommand::Kind::hex:
    case TextCommand::Kind::base64:
      co_await answer_random(connection, command.count, encoding_of(command));
      break;
    case TextCommand::Kind::health:
      co_await reply(connection, health_line(connection.context().entropy) + "\n");
      break;
    case TextCommand::Kind::status:
      co_await reply(connection, protocol::format_status_report(status_report(connection.context())) + "\n");
      break;
    case TextCommand::Kind::metrics:
      co_await answer_metrics(connection);
      break;
    case TextCommand::Kind::help:
      co_await reply(connection, protocol::text_help());
      break;
    case TextCommand::Kind::quit:
      co_return Answered::close;
  }
  co_return Answered::yes;
}

// ---------------------------------------------------------------------------
// At once
//
// As in binary mode: HEX and BASE64 from an allowed client and a seeded
// daemon whose line fits into the chunk, PING and QUIT need no coroutine;
// everything else goes the general way.
// ---------------------------------------------------------------------------

bool random_at_once(Connection& connection, const TextCommand& command) {
  const Encoding encoding = encoding_of(command);
  if (!connection.allowed() || connection.too_large(command.count) ||
      !connection.fits(Connection::encoded_size(command.count, encoding) + 1) || !connection.admit_at_once(0))
    return false;
  connection.append_random(command.count, encoding);
  connection.out().append(std::string_view("\n"));
  connection.count_reply(Status::ok, true);
  return true;
}

Answered command_at_once(Connection& connection, const TextCommand& command) {
  switch (command.kind) {
    case TextCommand::Kind::ping:
      if (!connection.fits(5))
        return Answered::not_at_once;
      connection.out().append(std::string_view("PONG\n"));
      return Answered::yes;
    case TextCommand::Kind::hex:
    case TextCommand::Kind::base64:
      return random_at_once(connection, command) ? Answered::yes : Answered::not_at_once;
    case TextCommand::Kind::quit:
      return Answered::close;
    default:
      return Answered::not_at_once;
  }
}

// ---------------------------------------------------------------------------
// Commands and line errors
//
// The connection ends after QUIT or a fatal error (an over-long line or a
// NUL byte).
// ---------------------------------------------------------------------------

struct TextMode {
  Connection& connection;
  protocol::LineDecoder decoder;

  Answered answer_at_once(const protocol::LineDecoder::Result& next) {
    const auto* command = std::get_if<TextCommand>(&next);
    return command ? command_at_once(connection, *command) : Answered::not_at_once;
  }

  asio::awaitable<Answered> answer(const protocol::LineDecoder::Result& next) {
    if (const auto* command = std::get_if<TextCommand>(&next))
      co_return co_await answer_command(connection, *command);
    const auto& error = std::get<protocol::TextError>(next);
    co_await reply_error(connection, error.status, error.reason);
    co_return error.fatal ? Answered::close : Answered::yes;
  }
};

}  // namespace

std::unique_ptr<Session> text_session(Connection& connection) {
  return std::make_unique<ModeSession<TextMode>>(connection);
}

}  // namespace rngpool::server
