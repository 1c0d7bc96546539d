// Text mode: the line protocol a person speaks through `nc -U` (PROTOCOL.md §10).
//
// It reaches the same daemon as the binary protocol, so it gets the same
// care: input is bounded by kMaxTextLine, a line's meaning does not depend on
// how it was split across reads, and every mistake a person can make gets an
// ERR line saying what was wrong.  Only input that cannot be a line of text
// at all (too long, a NUL byte) ends the connection.

#include "rngpool/protocol/text.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace rngpool::protocol {

// A letter starts a command; a blank or a line end starts what §10.1
// ignores before one (a person at nc pressing Enter first, or indenting).
// None of them can be the binary magic (PROTOCOL.md §1).
bool starts_text_mode(std::uint8_t first_byte)
{
  const bool letter = (first_byte >= 'A' && first_byte <= 'Z') || (first_byte >= 'a' && first_byte <= 'z');
  return letter || first_byte == ' ' || first_byte == '\t' || first_byte == '\r' || first_byte == '\n';
}

// ---------------------------------------------------------------------------
// Commands
//
// One table drives parsing and HELP, so the help can never list a command
// the parser does not know, or miss one it does.
// ---------------------------------------------------------------------------

namespace {

struct CommandSpec {
  std::string_view name;
  TextCommand::Kind kind;
  bool takes_count;
  std::string_view usage;
};

constexpr std::array<CommandSpec, 8> kCommands = {{
    {"PING", TextCommand::Kind::ping, false, "PING          reply PONG"},
    {"HEX", TextCommand::Kind::hex, true, "HEX n         n random bytes as 2n lowercase hex digits"},
    {"BASE64", TextCommand::Kind::base64, true, "BASE64 n      n random bytes in base64 (RFC 4648, padded)"},
    {"HEALTH", TextCommand::Kind::health, false, "HEALTH        OK, DEGRADED <reason> or FAILED <reason>"},
    {"STATUS", TextCommand::Kind::status, false, "STATUS        key: value lines, then an empty line"},
    {"METRICS", TextCommand::Kind::metrics, false, "METRICS       Prometheus text exposition, then an empty line"},
    {"HELP", TextCommand::Kind::help, false, "HELP          this list"},
    {"QUIT", TextCommand::Kind::quit, false, "QUIT          close the connection"},
}};

bool is_space(char c)
{
  return c == ' ' || c == '\t';
}

char to_upper(char c)
{
  return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}

bool equals_ignoring_case(std::string_view typed, std::string_view name)
{
  return typed.size() == name.size() &&
         std::equal(typed.begin(), typed.end(), name.begin(),
                    [](char a, char b) { return to_upper(a) == b; });
}

const CommandSpec* find_command(std::string_view word)
{
  const auto it = std::find_if(kCommands.begin(), kCommands.end(),
                               [word](const CommandSpec& spec) { return equals_ignoring_case(word, spec.name); });
  return it == kCommands.end() ? nullptr : &*it;
}

// ---------------------------------------------------------------------------
// Words
//
// Whatever a person typed around the command (a CR from telnet-style
// clients, spaces, tabs) is not theirs to get wrong.
// ---------------------------------------------------------------------------

std::string_view trim(std::string_view line)
{
  while (!line.empty() && is_space(line.front()))
    line.remove_prefix(1);
  while (!line.empty() && is_space(line.back()))
    line.remove_suffix(1);
  return line;
}

// "\n" or "\r\n" (PROTOCOL.md §10.1).
std::string_view strip_terminator(std::string_view line)
{
  line.remove_suffix(1);
  if (!line.empty() && line.back() == '\r')
    line.remove_suffix(1);
  return line;
}

std::string_view first_word(std::string_view text)
{
  return text.substr(0, std::min(text.find(' '), text.find('\t')));
}

// The typed command is echoed in an ERR line; bytes a terminal would act on
// are shown as '?'.
std::string printable(std::string_view text)
{
  std::string out{text};
  std::replace_if(out.begin(), out.end(), [](char c) { return c < 0x20 || c == 0x7f; }, '?');
  return out;
}

// ---------------------------------------------------------------------------
// Arguments
//
// HEX and BASE64 take exactly one decimal count that fits a u32, the same
// range as the binary GET_RANDOM count; whether it is too large for this
// daemon is the daemon's --max-request to decide (PROTOCOL.md §10.2).
// ---------------------------------------------------------------------------

std::optional<std::uint32_t> parse_count(std::string_view text)
{
  std::uint32_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size())
    return std::nullopt;
  return value;
}

TextError argument_error(const CommandSpec& spec)
{
  const std::string what = spec.takes_count ? " needs a byte count" : " takes no argument";
  return TextError{Status::bad_frame, std::string{spec.name} + what, false};
}

LineDecoder::Result parse_line(std::string_view raw)
{
  const std::string_view line = trim(strip_terminator(raw));
  const std::string_view word = first_word(line);
  const CommandSpec* spec = find_command(word);
  if (!spec)
    return TextError{Status::unknown_opcode, "unknown command '" + printable(word) + "', try HELP", false};
  const std::string_view argument = trim(line.substr(word.size()));
  if (!spec->takes_count)
    return argument.empty() ? LineDecoder::Result{TextCommand{spec->kind}}
                            : LineDecoder::Result{argument_error(*spec)};
  const auto count = parse_count(argument);
  if (!count)
    return argument_error(*spec);
  return TextCommand{spec->kind, *count};
}

bool is_blank(std::string_view line)
{
  return trim(strip_terminator(line)).empty();
}

}  // namespace

// ---------------------------------------------------------------------------
// Line decoder
//
// A line, terminator included, is at most kMaxTextLine bytes, so the buffer
// is full exactly when a line is too long and the error comes on the byte
// that overflows, whatever the split.  Blank lines are skipped here: a person
// pressing Enter has asked for nothing and gets nothing.
// ---------------------------------------------------------------------------

std::size_t LineDecoder::feed(std::span<const std::uint8_t> bytes)
{
  std::size_t taken = 0;
  while (!fatal_ && !line_complete_ && taken < bytes.size()) {
    const auto byte = static_cast<char>(bytes[taken++]);
    if (byte == '\0') {
      fatal_ = TextError{Status::bad_frame, "NUL byte in a text line", true};
      break;
    }
    line_ += byte;
    if (byte == '\n') {
      line_complete_ = !is_blank(line_);
      if (!line_complete_)
        line_.clear();
    } else if (line_.size() == kMaxTextLine) {
      fatal_ = TextError{Status::bad_frame,
                         "line longer than " + std::to_string(kMaxTextLine) + " bytes", true};
    }
  }
  return taken;
}

LineDecoder::Result LineDecoder::next()
{
  if (fatal_)
    return *fatal_;
  if (!line_complete_)
    return std::monostate{};
  Result result = parse_line(line_);
  line_.clear();
  line_complete_ = false;
  return result;
}

// ---------------------------------------------------------------------------
// Replies
// ---------------------------------------------------------------------------

std::string format_text_error(Status status, std::string_view reason)
{
  std::string out = "ERR ";
  out += status_name(status);
  if (!reason.empty()) {
    out += ' ';
    out += reason;
  }
  out += '\n';
  return out;
}

std::string_view text_help()
{
  static const std::string help = [] {
    std::string text = "Commands (case-insensitive, one per line):\n";
    for (const CommandSpec& spec : kCommands) {
      text += "  ";
      text += spec.usage;
      text += '\n';
    }
    text += "Errors: ERR <CODE> <message>\n\n";
    return text;
  }();
  return help;
}

}  // namespace rngpool::protocol
