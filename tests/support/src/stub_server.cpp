// StubServer: accept, decode, let the test answer.
#include "rngpool/test/stub_server.hpp"

#include "rngpool/test/unix_socket.hpp"

#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <variant>

namespace rngpool::test {

namespace proto = rngpool::protocol;

bool send_all(int fd, std::span<const std::uint8_t> bytes) {
  while (!bytes.empty()) {
    const ssize_t sent = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) return false;
    bytes = bytes.subspan(static_cast<std::size_t>(sent));
  }
  return true;
}

StubServer::StubServer(const std::string& path, Answer answer)
    : path_(path), answer_(std::move(answer)), listener_(listen_unix(path)), acceptor_([this] { accept_loop(); }) {}

StubServer::~StubServer() {
  stopping_ = true;
  ::shutdown(listener_.get(), SHUT_RDWR);  // accept() returns
  acceptor_.join();
  std::lock_guard lock(mutex_);
  for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);  // recv() returns
  for (auto& thread : servers_) thread.join();
  for (int fd : fds_) ::close(fd);
}

void StubServer::accept_loop() {
  while (!stopping_) {
    const int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;
    }
    ++connections_;
    std::lock_guard lock(mutex_);
    fds_.push_back(fd);
    servers_.emplace_back([this, fd] { serve(fd); });
  }
}

void StubServer::serve(int fd) {
  proto::RequestDecoder decoder;
  std::array<std::uint8_t, 256> input{};
  for (;;) {
    const ssize_t got = ::recv(fd, input.data(), input.size(), 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    std::span<const std::uint8_t> rest(input.data(), static_cast<std::size_t>(got));
    bool open = true;
    while (open && !rest.empty()) {
      rest = rest.subspan(decoder.feed(rest));
      const auto result = decoder.next();
      if (std::holds_alternative<proto::DecodeError>(result)) open = false;
      if (const auto* request = std::get_if<proto::Request>(&result)) open = answer_(fd, *request);
    }
    if (!open) break;
  }
  // However it ended (EOF, a reset, a send the client's close made fail),
  // unless the server itself is stopping.
  if (!stopping_) ++ended_;
}

}  // namespace rngpool::test
