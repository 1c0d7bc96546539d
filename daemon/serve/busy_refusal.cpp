#include "serve/busy_refusal.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <memory>
#include <variant>

#include "rngpool/protocol/frame.hpp"
#include "rngpool/protocol/text.hpp"

namespace rngpool::server {

namespace {

// ---------------------------------------------------------------------------
// The reply
//
// Text mode gets "ERR BUSY <message>".  Binary mode gets a BUSY error reply
// echoing the first request's opcode and id when its header has arrived
// (a client that checks them accepts it as the answer to its request), else
// opcode 0 and id 0, as for an unreadable header (PROTOCOL.md §7).  Whatever
// else the client sent is read and dropped before the close: unread input
// would make the kernel reset the connection, and the client might then
// lose the reply.
// ---------------------------------------------------------------------------

using Bytes = std::span<const std::uint8_t>;

std::vector<std::uint8_t> binary_busy(Bytes first, std::string_view message) {
  protocol::RequestDecoder decoder;
  decoder.feed(first);
  std::uint8_t opcode = 0;
  std::uint32_t id = 0;
  auto next = decoder.next();
  if (const auto* request = std::get_if<protocol::Request>(&next)) {
    opcode = request->header.opcode;
    id = request->header.request_id;
  } else if (const auto* error = std::get_if<protocol::DecodeError>(&next)) {
    opcode = error->opcode;
    id = error->request_id;
  }
  return protocol::encode_error_reply(opcode, id, protocol::Status::busy, message);
}

std::vector<std::uint8_t> busy_reply(Bytes first, std::string_view message) {
  if (!first.empty() && protocol::starts_text_mode(first.front())) {
    std::string line = protocol::format_text_error(protocol::Status::busy, message);
    return {line.begin(), line.end()};
  }
  return binary_busy(first, message);
}

// Reads what has arrived without waiting; false: the peer has gone.
bool read_arrived(int fd, std::array<std::uint8_t, 4096>& buffer, std::size_t& size) {
  ssize_t n = ::recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
  if (n == 0)
    return false;
  size = n > 0 ? static_cast<std::size_t>(n) : 0;
  return true;
}

void drain(int fd) {
  std::array<std::uint8_t, 4096> discard;
  for (int i = 0; i < 16 && ::recv(fd, discard.data(), discard.size(), MSG_DONTWAIT) > 0; ++i) {
  }
}

void answer(int fd, std::string_view message) {
  std::array<std::uint8_t, 4096> first;
  std::size_t size = 0;
  if (!read_arrived(fd, first, size))
    return;
  auto reply = busy_reply(Bytes(first.data(), size), message);
  ::send(fd, reply.data(), reply.size(), MSG_DONTWAIT | MSG_NOSIGNAL);  // a few bytes: the buffer takes them
  ::shutdown(fd, SHUT_WR);
  drain(fd);
}

}  // namespace

void BusyRefusals::refuse_now(int fd, std::string_view message) {
  answer(fd, message);
  ::close(fd);
}

void BusyRefusals::refuse(UnixSocket socket, std::string message) {
  if (waiting_ >= kMaxWaiting) {
    error_code ec;
    int fd = socket.release(ec);
    if (!ec)
      refuse_now(fd, message);
    return;
  }
  asio::co_spawn(executor_, wait_and_refuse(std::move(socket), std::move(message)), asio::detached);
}

// ---------------------------------------------------------------------------
// Waiting for the first bytes
//
// A wait for readability, which the timer cuts short by cancelling it; the
// socket is shared with the timer's handler, which may run after the
// coroutine is done.
// ---------------------------------------------------------------------------

asio::awaitable<void> BusyRefusals::wait_and_refuse(UnixSocket socket, std::string message) {
  ++waiting_;
  auto shared = std::make_shared<UnixSocket>(std::move(socket));
  asio::steady_timer timer(executor_, kFirstBytesWait);
  timer.async_wait([shared](const error_code& ec) {
    if (!ec)
      shared->cancel();
  });
  error_code ec;
  co_await shared->async_wait(UnixSocket::wait_read, asio::redirect_error(asio::use_awaitable, ec));
  timer.cancel();
  --waiting_;
  int fd = shared->release(ec);
  if (!ec)
    refuse_now(fd, message);
}

}  // namespace rngpool::server
