// rngpool text mode: one command per line, for `nc -U` (see PROTOCOL.md §Text mode).
#pragma once

#include "rngpool/protocol/frame.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace rngpool::protocol {

// A line, its "\n" or "\r\n" included, is at most this long (PROTOCOL.md §10.1).
inline constexpr std::size_t kMaxTextLine = 256;

// A byte that starts text mode: an ASCII letter, or a space, tab, CR or LF
// (PROTOCOL.md §1, §10.1).
bool starts_text_mode(std::uint8_t first_byte);

struct TextCommand {
  enum class Kind { ping, hex, base64, health, status, help, quit, metrics };
  Kind kind;
  std::uint32_t count = 0;  // HEX and BASE64: number of random bytes
  bool operator==(const TextCommand&) const = default;
};

// A text-mode error: rendered as "ERR <STATUS_NAME> <reason>\n".  Fatal ones
// (an over-long line, a NUL byte) end the connection; an unknown command or a
// bad argument does not.
struct TextError {
  Status status;
  std::string reason;
  bool fatal = false;
  bool operator==(const TextError&) const = default;
};

// Incremental line decoder: commands are case-insensitive, end in "\n" or
// "\r\n", and never buffer more than kMaxTextLine bytes.  Like
// RequestDecoder, feed() stops after a complete line; blank lines are skipped.
class LineDecoder {
 public:
  std::size_t feed(std::span<const std::uint8_t> bytes);
  using Result = std::variant<std::monostate, TextCommand, TextError>;
  Result next();
  // Bytes held for the line being read: never above kMaxTextLine.
  std::size_t buffered() const { return line_.size(); }

 private:
  std::string line_;
  bool line_complete_ = false;
  std::optional<TextError> fatal_;
};

std::string format_text_error(Status status, std::string_view reason);  // "ERR CODE reason\n"
std::string_view text_help();  // the HELP reply, ending in an empty line

}  // namespace rngpool::protocol
