#include "rngpool/test/test_connection.hpp"

#include "rngpool/test/unix_socket.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <stdexcept>
#include <system_error>
#include <utility>
#include <variant>

namespace rngpool::test {

using std::chrono::steady_clock;

TestConnection::TestConnection(const std::string& socket_path, std::chrono::milliseconds timeout)
    : fd_(connect_unix(socket_path)), timeout_(timeout) {}

steady_clock::time_point TestConnection::deadline() const { return steady_clock::now() + timeout_; }

void TestConnection::send(std::span<const std::uint8_t> bytes) {
  auto until = deadline();
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - steady_clock::now());
    pollfd p{fd_.get(), POLLOUT, 0};
    int ready = poll(&p, 1, static_cast<int>(std::max<std::int64_t>(left.count(), 0)));
    if (ready == 0) throw std::runtime_error("timed out sending to the daemon");
    if (ready < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "poll");
    }
    ssize_t n = ::send(fd_.get(), bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
    } else if (errno != EAGAIN && errno != EINTR) {
      throw std::system_error(errno, std::generic_category(), "send");
    }
  }
}

void TestConnection::send(std::string_view text) {
  send(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

void TestConnection::shutdown_write() { ::shutdown(fd_.get(), SHUT_WR); }

bool TestConnection::fill(steady_clock::time_point until, bool eof_on_reset) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - steady_clock::now());
    pollfd p{fd_.get(), POLLIN, 0};
    int ready = poll(&p, 1, static_cast<int>(std::max<std::int64_t>(left.count(), 0)));
    if (ready == 0)
      throw std::runtime_error("timed out after " + std::to_string(timeout_.count()) +
                               " ms waiting for the daemon (" + std::to_string(buffer_.size()) +
                               " bytes buffered)");
    if (ready < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "poll");
    }
    char chunk[65536];
    ssize_t n = ::recv(fd_.get(), chunk, sizeof chunk, MSG_DONTWAIT);
    if (n > 0) {
      buffer_.append(chunk, static_cast<std::size_t>(n));
      return true;
    }
    if (n == 0) return false;
    if (errno == EAGAIN || errno == EINTR) continue;
    if (eof_on_reset && errno == ECONNRESET) return false;
    throw std::system_error(errno, std::generic_category(), "recv");
  }
}

std::vector<std::uint8_t> TestConnection::read_exact(std::size_t n) {
  auto until = deadline();
  while (buffer_.size() < n) {
    if (!fill(until))
      throw std::runtime_error("the daemon closed the connection after " + std::to_string(buffer_.size()) +
                               " of " + std::to_string(n) + " bytes");
  }
  std::vector<std::uint8_t> bytes(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(n));
  buffer_.erase(0, n);
  return bytes;
}

Reply TestConnection::read_reply() {
  auto header_bytes = read_exact(protocol::kHeaderSize);
  auto decoded = protocol::decode_reply_header(std::span<const std::uint8_t, protocol::kHeaderSize>(
      header_bytes.data(), protocol::kHeaderSize));
  if (auto* error = std::get_if<protocol::DecodeError>(&decoded))
    throw std::runtime_error("malformed reply header: " + error->reason);
  Reply reply{std::get<protocol::Header>(decoded), {}};
  reply.payload = read_exact(reply.header.length);
  return reply;
}

Reply TestConnection::request(std::span<const std::uint8_t> frame) {
  send(frame);
  return read_reply();
}

std::string TestConnection::read_line() {
  auto until = deadline();
  std::size_t end;
  while ((end = buffer_.find('\n')) == std::string::npos) {
    if (!fill(until)) throw std::runtime_error("the daemon closed the connection mid-line: \"" + buffer_ + "\"");
  }
  std::string line = buffer_.substr(0, end);
  buffer_.erase(0, end + 1);
  return line;
}

std::string TestConnection::read_until_eof() {
  auto until = deadline();
  while (fill(until, true)) {
  }
  return std::exchange(buffer_, {});
}

bool TestConnection::wait_closed() {
  try {
    read_until_eof();
    return true;
  } catch (const std::runtime_error&) {
    return false;
  }
}

}  // namespace rngpool::test
