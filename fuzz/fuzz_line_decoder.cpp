// libFuzzer target: the text-mode line decoder (PROTOCOL.md §10) and the
// encodings its replies use.
//
// Input: one byte choosing a split, then the bytes a person (or anything
// else) typed at nc -U.

#include "split_driver.hpp"

#include "rngpool/protocol/encoding.hpp"
#include "rngpool/protocol/text.hpp"

#include <algorithm>
#include <string>

namespace {

using namespace rngpool::protocol;
using rngpool::fuzz::check;

bool is_text(std::span<const std::uint8_t> bytes)
{
  return std::find(bytes.begin(), bytes.end(), 0) == bytes.end();
}

// The line a result answers is the consumed bytes after any blank lines the
// decoder skipped.
std::span<const std::uint8_t> last_line(std::span<const std::uint8_t> consumed)
{
  const auto body = consumed.first(consumed.size() - 1);
  const auto newline = std::find(body.rbegin(), body.rend(), '\n');
  return consumed.subspan(static_cast<std::size_t>(body.rend() - newline));
}

void check_complete_line(std::span<const std::uint8_t> consumed)
{
  check(!consumed.empty() && consumed.back() == '\n', "a result before the end of its line");
  check(is_text(consumed), "a NUL byte passed as text");
  check(last_line(consumed).size() <= kMaxTextLine, "a line over the limit passed");
}

void check_result(const LineDecoder::Result& result, std::span<const std::uint8_t> consumed)
{
  if (std::holds_alternative<TextCommand>(result)) {
    check_complete_line(consumed);
    return;
  }
  const auto& error = std::get<TextError>(result);
  const std::string line = format_text_error(error.status, error.reason);
  check(std::count(line.begin(), line.end(), '\n') == 1, "an ERR reply that is not one line");
  check(std::none_of(line.begin(), line.end(), [](char c) { return (c >= 0 && c < 0x20 && c != '\n') || c == 0x7f; }),
        "a control character in an ERR reply");
  if (!error.fatal)
    check_complete_line(consumed);
}

bool is_final(const LineDecoder::Result& result)
{
  const auto* error = std::get_if<TextError>(&result);
  return error && error->fatal;
}

// The replies to HEX and BASE64 and the client's token_urlsafe: sizes and the
// one-alphabet-swap relation between base64 and base64url.
void check_encodings(std::span<const std::uint8_t> bytes)
{
  check(to_hex(bytes).size() == 2 * bytes.size(), "hex length");
  std::string standard = to_base64(bytes);
  check(standard.size() == (bytes.size() + 2) / 3 * 4, "base64 length");
  standard.erase(std::find(standard.begin(), standard.end(), '='), standard.end());
  std::replace(standard.begin(), standard.end(), '+', '-');
  std::replace(standard.begin(), standard.end(), '/', '_');
  check(to_base64url(bytes) == standard, "base64url is not unpadded URL-alphabet base64");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  const std::span<const std::uint8_t> input{data, size};
  rngpool::fuzz::drive_all_splits<LineDecoder>(input, kMaxTextLine, check_result, is_final);
  check_encodings(input);
  return 0;
}
