// HEALTH: the daemon's own verdict, asked in text mode.
//
// The binary protocol has no HEALTH opcode; the text command is the one place
// where rngpoold condenses its state into OK, DEGRADED or FAILED, so we ask
// it that, on a short-lived connection of its own (the first byte of a
// connection picks its mode, so the shared binary connection cannot carry it).
#include "daemon_link.hpp"

#include "error_text.hpp"

#include <string_view>

namespace rngpool::detail {

static constexpr std::size_t kMaxLine = 256;

static std::string read_line(Socket& socket, std::chrono::milliseconds timeout) {
  std::string line;
  std::uint8_t byte = 0;
  while (line.size() < kMaxLine) {
    socket.recv_exact(std::span(&byte, 1), timeout);
    if (byte == '\n') break;
    line.push_back(static_cast<char>(byte));
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

static std::pair<std::string_view, std::string_view> split_word(std::string_view text) {
  const auto space = text.find(' ');
  if (space == std::string_view::npos) return {text, {}};
  return {text.substr(0, space), text.substr(space + 1)};
}

Health DaemonLink::health() {
  Socket socket = Socket::connect(options_.socket_path, options_.connect_timeout);
  static constexpr std::string_view kCommand = "HEALTH\n";
  socket.send_all(std::span(reinterpret_cast<const std::uint8_t*>(kCommand.data()), kCommand.size()),
                  options_.io_timeout);
  const std::string line = read_line(socket, options_.io_timeout);
  const auto [verdict, rest] = split_word(line);
  if (verdict == "OK") return {Health::State::ok, std::string(rest)};
  if (verdict == "DEGRADED") return {Health::State::degraded, std::string(rest)};
  if (verdict == "FAILED") return {Health::State::failed, std::string(rest)};
  if (verdict == "ERR") {
    const auto [status, message] = split_word(rest);
    throw daemon_error(std::string(status), std::string(message));
  }
  throw protocol_error(options_.socket_path, "unexpected HEALTH reply \"" + line + "\"");
}

}  // namespace rngpool::detail
