// The STATUS report: "key: value" lines (PROTOCOL.md §5.2).
//
// The same text goes out in a binary STATUS reply and in text mode, so a
// person reading nc output and a program parsing the client's report see one
// format.  It is line-based so that it can be read by eye and by grep, and
// strict so that a parser never has to guess.

#include "rngpool/protocol/status_report.hpp"

#include <algorithm>

namespace rngpool::protocol {

namespace {

constexpr std::string_view kSeparator = ": ";

bool is_key_char(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

bool is_key(std::string_view key)
{
  return !key.empty() && std::all_of(key.begin(), key.end(), is_key_char);
}

// A value with a line break would forge a second entry (a hwrng path is
// chosen by the operator and may hold anything); break characters become
// '?' so one entry stays one line.
std::string one_line(std::string_view value)
{
  std::string out{value};
  std::replace_if(out.begin(), out.end(), [](char c) { return c == '\n' || c == '\r'; }, '?');
  return out;
}

std::optional<std::pair<std::string, std::string>> parse_line(std::string_view line)
{
  const auto colon = line.find(kSeparator);
  if (colon == std::string_view::npos || !is_key(line.substr(0, colon)))
    return std::nullopt;
  const std::string_view value = line.substr(colon + kSeparator.size());
  if (value.find('\r') != std::string_view::npos)
    return std::nullopt;
  return std::pair{std::string{line.substr(0, colon)}, std::string{value}};
}

}  // namespace

std::string format_status_report(const StatusReport& report)
{
  std::string out;
  for (const auto& [key, value] : report) {
    out += key;
    out += kSeparator;
    out += one_line(value);
    out += '\n';
  }
  return out;
}

// Every entry ends in '\n'.  One empty line may close the report: text mode
// ends STATUS with it, so a transcript from nc parses too.
std::optional<StatusReport> parse_status_report(std::string_view text)
{
  StatusReport report;
  while (!text.empty()) {
    const auto end = text.find('\n');
    if (end == std::string_view::npos)
      return std::nullopt;
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(end + 1);
    if (line.empty() && text.empty())
      break;
    auto entry = parse_line(line);
    if (!entry)
      return std::nullopt;
    report.push_back(std::move(*entry));
  }
  return report;
}

std::optional<std::string> find_value(const StatusReport& report, std::string_view key)
{
  const auto it = std::find_if(report.begin(), report.end(),
                               [key](const auto& entry) { return entry.first == key; });
  if (it == report.end())
    return std::nullopt;
  return it->second;
}

}  // namespace rngpool::protocol
