// DaemonLink: one client's connection to rngpoold, shared by its threads.
#pragma once

#include "socket.hpp"
#include "state.hpp"

#include "rngpool/protocol/frame.hpp"

#include <mutex>
#include <sys/types.h>

namespace rngpool::detail {

class DaemonLink final : public Client::State {
 public:
  explicit DaemonLink(ClientOptions options);

  const std::string& socket_path() const noexcept override { return options_.socket_path; }
  void fill(std::span<std::uint8_t> out, RequestFlags flags) override;
  StatusReport status() override;
  Health health() override;
  std::chrono::nanoseconds ping() override;

 private:
  std::size_t fill_piece(std::span<std::uint8_t> out, std::uint16_t flags);
  protocol::Header exchange(protocol::Opcode opcode, std::uint16_t flags,
                            std::span<const std::uint8_t> payload);
  protocol::Header send_and_read_header(std::span<const std::uint8_t> frame, std::uint32_t id);
  void read_payload(std::span<std::uint8_t> out);
  std::string read_text(std::uint32_t length);
  [[noreturn]] void refuse(const protocol::Header& header);
  void ensure_connected();

  const ClientOptions options_;
  std::mutex mutex_;  // one request/reply exchange at a time on socket_
  Socket socket_;
  pid_t owner_ = 0;   // the process that opened socket_
  bool used_ = false;  // socket_ has carried a complete exchange
  std::uint32_t next_id_ = 1;
  std::size_t max_piece_;  // largest GET_RANDOM the daemon accepted so far
};

std::string resolve_socket_path(std::string path);

}  // namespace rngpool::detail
