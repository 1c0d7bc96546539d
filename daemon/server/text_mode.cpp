#include "server/text_mode.hpp"

#include <string>
#include <variant>

#include "rngpool/protocol/status_report.hpp"
#include "rngpool/protocol/text.hpp"
#include "server/status.hpp"

namespace rngpool::server {

using protocol::Status;
using protocol::TextCommand;

namespace {

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
  if (auto too_large = connection.check_size(count); !too_large.empty()) {
    co_await reply_error(connection, Status::too_large, too_large);
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

// Returns false for QUIT.
asio::awaitable<bool> answer(Connection& connection, const TextCommand& command) {
  switch (command.kind) {
    case TextCommand::Kind::ping:
      co_await reply(connection, "PONG\n");
      break;
    case TextCommand::Kind::hex:
      co_await answer_random(connection, command.count, Encoding::hex);
      break;
    case TextCommand::Kind::base64:
      co_await answer_random(connection, command.count, Encoding::base64);
      break;
    case TextCommand::Kind::health:
      co_await reply(connection, health_line(connection.context().entropy) + "\n");
      break;
    case TextCommand::Kind::status:
      co_await reply(connection, protocol::format_status_report(status_report(connection.context())) + "\n");
      break;
    case TextCommand::Kind::help:
      co_await reply(connection, protocol::text_help());
      break;
    case TextCommand::Kind::quit:
      co_return false;
  }
  co_return true;
}

// ---------------------------------------------------------------------------
// Decoding
//
// Every complete line already read is answered before the batch is written.
// Returns false when the connection ends: QUIT, or a fatal error (an
// over-long line or a NUL byte).
// ---------------------------------------------------------------------------

asio::awaitable<bool> answer_buffered(Connection& connection, protocol::LineDecoder& decoder,
                                      std::span<const std::uint8_t> input) {
  for (;;) {
    input = input.subspan(decoder.feed(input));
    auto result = decoder.next();
    if (std::holds_alternative<std::monostate>(result))
      co_return true;
    connection.request_received();
    if (auto* command = std::get_if<TextCommand>(&result)) {
      if (!co_await answer(connection, *command))
        co_return false;
      continue;
    }
    const auto& error = std::get<protocol::TextError>(result);
    co_await reply_error(connection, error.status, error.reason);
    if (error.fatal)
      co_return false;
  }
}

}  // namespace

asio::awaitable<void> serve_text(Connection& connection, std::span<const std::uint8_t> first) {
  protocol::LineDecoder decoder;
  co_await connection.serve_batches(first, [&](std::span<const std::uint8_t> input) {
    return answer_buffered(connection, decoder, input);
  });
}

}  // namespace rngpool::server
