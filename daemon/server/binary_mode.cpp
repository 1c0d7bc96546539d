#include "server/binary_mode.hpp"

#include <string>
#include <variant>

#include "rngpool/protocol/status_report.hpp"
#include "server/log.hpp"
#include "server/status.hpp"

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
  if (auto too_large = connection.check_size(request.count); !too_large.empty()) {
    co_await reply_error(connection, opcode, id, Status::too_large, too_large);
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

asio::awaitable<void> answer_ping(Connection& connection, const protocol::Request& request) {
  co_await connection.make_room(protocol::kHeaderSize);
  append_header(connection.out(), protocol::reply_header(Opcode::ping, request.header.request_id, Status::ok, 0));
  connection.count_reply(Status::ok, false);
}

asio::awaitable<void> answer(Connection& connection, const protocol::Request& request) {
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

// ---------------------------------------------------------------------------
// Decoding
//
// Every request already in the input is answered before the batch is
// written, in order (PROTOCOL.md §9).  A fatal decode error is answered and
// ends the connection: after it the daemon cannot tell where the next frame
// starts.  Returns false then.
// ---------------------------------------------------------------------------

asio::awaitable<bool> answer_buffered(Connection& connection, protocol::RequestDecoder& decoder,
                                      std::span<const std::uint8_t> input) {
  for (;;) {
    input = input.subspan(decoder.feed(input));
    auto result = decoder.next();
    if (std::holds_alternative<std::monostate>(result))
      co_return true;
    connection.request_received();
    if (auto* request = std::get_if<protocol::Request>(&result)) {
      co_await answer(connection, *request);
      continue;
    }
    const auto& error = std::get<protocol::DecodeError>(result);
    co_await reply_error(connection, error.opcode, error.request_id, error.status, error.reason);
    if (protocol::is_fatal(error.status)) {
      log(LogLevel::debug, "closing a client after ", protocol::status_name(error.status), ": ", error.reason);
      co_return false;
    }
  }
}

}  // namespace

asio::awaitable<void> serve_binary(Connection& connection, std::span<const std::uint8_t> first) {
  protocol::RequestDecoder decoder;
  co_await connection.serve_batches(first, [&](std::span<const std::uint8_t> input) {
    return answer_buffered(connection, decoder, input);
  });
}

}  // namespace rngpool::server
