// What the EGD tests (test_egd.cpp) and the metrics' agreement test
// (test_metrics.cpp) share: reading EGD replies, and being another uid on
// the EGD socket.
#pragma once

#include "rngpool/test/support.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace rngpool::test {

using Bytes = std::vector<std::uint8_t>;

// 0x00's reply: a big-endian U32 (PROTOCOL.md §13.2).
inline std::uint32_t u32(const Bytes& b) {
  return std::uint32_t{b[0]} << 24 | std::uint32_t{b[1]} << 16 | std::uint32_t{b[2]} << 8 | b[3];
}

// 0x04's reply: a length byte and the pid's digits.
inline std::string pid_reply(TestConnection& connection) {
  const auto length = connection.read_exact(1)[0];
  const auto digits = connection.read_exact(length);
  return {digits.begin(), digits.end()};
}

// What `uid` reads back from the EGD socket after sending `input`, through
// socat under setpriv (it waits one second for the reply after its input),
// as hex digits.  The socket's directory must let `uid` in.
inline CommandResult egd_as(std::uint32_t uid, const std::string& path, const std::string& printf_input) {
  std::string wrapper;
  for (const auto& word : as_uid(uid))
    wrapper += shell_quote(word) + " ";
  return run_command("printf " + shell_quote(printf_input) + " | timeout 10 " + wrapper + "socat -t 1 - UNIX-CONNECT:" +
                     shell_quote(path) + " | od -An -v -tx1 | tr -d ' \\n'");
}

}  // namespace rngpool::test
