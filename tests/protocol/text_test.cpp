// Text mode against PROTOCOL.md §1 and §10: mode selection, every command,
// case, CRLF, spaces, every error, the line limit, and split invariance.

#include "decode_helpers.hpp"

#include "rngpool/protocol/text.hpp"

#include <catch2/catch.hpp>

#include <random>

using namespace rngpool::protocol;
using namespace rngpool::protocol::test;
using Kind = TextCommand::Kind;
using namespace std::string_literals;

namespace {

LineDecoder::Result decode_line(std::string_view line)
{
  LineDecoder decoder;
  const Bytes bytes = bytes_of(line);
  CHECK(decoder.feed(bytes) == bytes.size());
  return decoder.next();
}

TextCommand command(std::string_view line)
{
  const auto result = decode_line(line);
  if (const auto* error = std::get_if<TextError>(&result))
    FAIL("'" << line << "' refused: " << error->reason);
  REQUIRE(std::holds_alternative<TextCommand>(result));
  return std::get<TextCommand>(result);
}

std::string error_line(std::string_view line)
{
  const auto result = decode_line(line);
  REQUIRE(std::holds_alternative<TextError>(result));
  const auto& error = std::get<TextError>(result);
  return std::string{error.fatal ? "fatal " : ""} + format_text_error(error.status, error.reason);
}

const std::string kTranscript =
    "PING\n"
    "hex 32\r\n"
    "  Base64\t7  \n"
    "\n"
    "   \r\n"
    "HeAlTh\n"
    "FOO bar\n"
    "HEX\n"
    "status\n"
    "ping 1\n"
    "help\n"
    "quit\n"
    "HEX 4294967295\n"
    "PING\0\n"s;

const std::vector<std::string> kTranscriptExpected = {
    "command 0 count=0",
    "command 1 count=32",
    "command 2 count=7",
    "command 3 count=0",
    "ERR UNKNOWN_OPCODE unknown command 'FOO', try HELP\n",
    "ERR BAD_FRAME HEX needs a byte count\n",
    "command 4 count=0",
    "ERR BAD_FRAME PING takes no argument\n",
    "command 5 count=0",
    "command 6 count=0",
    "command 1 count=4294967295",
    "fatal ERR BAD_FRAME NUL byte in a text line\n",
};

}  // namespace

TEST_CASE("a letter or a blank starts text mode, nothing else does", "[text]")
{
  for (int byte = 0; byte < 256; ++byte) {
    const bool letter = (byte >= 'A' && byte <= 'Z') || (byte >= 'a' && byte <= 'z');
    const bool blank = byte == ' ' || byte == '\t' || byte == '\r' || byte == '\n';
    CHECK(starts_text_mode(static_cast<std::uint8_t>(byte)) == (letter || blank));
  }
  CHECK_FALSE(starts_text_mode(kMagic));
}

TEST_CASE("every command, in any case", "[text]")
{
  const std::vector<std::pair<std::string, Kind>> commands = {
      {"PING", Kind::ping},     {"HEALTH", Kind::health}, {"STATUS", Kind::status},
      {"METRICS", Kind::metrics}, {"HELP", Kind::help},     {"QUIT", Kind::quit}};
  for (const auto& [name, kind] : commands) {
    std::string lower = name;
    for (char& c : lower)
      c = static_cast<char>(c - 'A' + 'a');
    CHECK(command(name + "\n").kind == kind);
    CHECK(command(lower + "\n").kind == kind);
  }
  CHECK(command("Hex 16\n").kind == Kind::hex);
  CHECK(command("Hex 16\n").count == 16);
  CHECK(command("bAsE64 3\n").kind == Kind::base64);
  CHECK(command("bAsE64 3\n").count == 3);
}

TEST_CASE("CRLF, spaces and tabs are tolerated", "[text]")
{
  CHECK(command("PING\r\n").kind == Kind::ping);
  CHECK(command("  PING  \n").kind == Kind::ping);
  CHECK(command("\tPING\t\r\n").kind == Kind::ping);
  CHECK(command("HEX   8 \r\n").count == 8);
  CHECK(command("HEX\t8\n").count == 8);
}

TEST_CASE("counts span 0 to 2^32-1", "[text]")
{
  CHECK(command("HEX 0\n").count == 0);
  CHECK(command("HEX 007\n").count == 7);
  CHECK(command("BASE64 4294967295\n").count == 4294967295u);
}

TEST_CASE("a bad count is a non-fatal BAD_FRAME", "[text]")
{
  for (const char* line : {"HEX\n", "HEX x\n", "HEX 1 2\n", "HEX -1\n", "HEX +1\n", "HEX 0x10\n",
                           "HEX 4294967296\n", "HEX 99999999999999999999\n", "HEX 1.5\n"}) {
    INFO(line);
    CHECK(error_line(line) == "ERR BAD_FRAME HEX needs a byte count\n");
  }
  CHECK(error_line("base64\n") == "ERR BAD_FRAME BASE64 needs a byte count\n");
  CHECK(error_line("status now\n") == "ERR BAD_FRAME STATUS takes no argument\n");
}

TEST_CASE("an unknown command names itself and points to HELP", "[text]")
{
  CHECK(error_line("FOO\n") == "ERR UNKNOWN_OPCODE unknown command 'FOO', try HELP\n");
  CHECK(error_line("get 32\n") == "ERR UNKNOWN_OPCODE unknown command 'get', try HELP\n");
  CHECK(error_line("PINGX\n") == "ERR UNKNOWN_OPCODE unknown command 'PINGX', try HELP\n");
  CHECK(error_line("P\x1b[2J\n") == "ERR UNKNOWN_OPCODE unknown command 'P?[2J', try HELP\n");
}

TEST_CASE("a line of 256 bytes is accepted, one of 257 is fatal", "[text]")
{
  const std::string fits = "PING" + std::string(kMaxTextLine - 5, ' ') + "\n";
  REQUIRE(fits.size() == kMaxTextLine);
  CHECK(command(fits).kind == Kind::ping);
  const std::string fits_crlf = "PING" + std::string(kMaxTextLine - 6, ' ') + "\r\n";
  CHECK(command(fits_crlf).kind == Kind::ping);

  const std::string too_long = "PING" + std::string(kMaxTextLine - 4, ' ') + "\n";
  LineDecoder decoder;
  const Bytes bytes = bytes_of(too_long);
  CHECK(decoder.feed(bytes) == kMaxTextLine);  // refused on the byte that overflows
  CHECK(decoder.buffered() <= kMaxTextLine);
  const auto result = decoder.next();
  REQUIRE(std::holds_alternative<TextError>(result));
  CHECK(std::get<TextError>(result).fatal);
  CHECK(format_text_error(std::get<TextError>(result).status, std::get<TextError>(result).reason) ==
        "ERR BAD_FRAME line longer than 256 bytes\n");
}

TEST_CASE("an endless line is refused with the buffer bounded", "[text]")
{
  const Bytes flood(1 << 16, 'A');
  LineDecoder decoder;
  CHECK(decoder.feed(flood) == kMaxTextLine);
  CHECK(decoder.buffered() <= kMaxTextLine);
  CHECK(decoder.feed(flood) == 0);
  CHECK(std::get<TextError>(decoder.next()).fatal);
  CHECK(std::get<TextError>(decoder.next()).fatal);  // sticky
}

TEST_CASE("a NUL byte is fatal", "[text]")
{
  LineDecoder decoder;
  const Bytes bytes = bytes_of("PI\0NG\n"s);
  CHECK(decoder.feed(bytes) == 3);  // refused on the NUL itself
  const auto result = decoder.next();
  REQUIRE(std::holds_alternative<TextError>(result));
  CHECK(std::get<TextError>(result).fatal);
  CHECK(std::get<TextError>(result).reason == "NUL byte in a text line");
}

TEST_CASE("a pipelined transcript decodes in order", "[text]")
{
  const Bytes stream = bytes_of(kTranscript);
  CHECK(decode_whole<LineDecoder>(stream, kMaxTextLine) == kTranscriptExpected);
}

TEST_CASE("any split of a transcript gives the same result", "[text]")
{
  const Bytes stream = bytes_of(kTranscript);
  for (std::size_t a = 0; a <= stream.size(); ++a)
    for (std::size_t b = a; b <= stream.size(); b += 3)
      if (decode_pieces<LineDecoder>(stream, {a, b}, kMaxTextLine) != kTranscriptExpected)
        FAIL("cuts at " << a << " and " << b);

  std::vector<std::size_t> every;
  for (std::size_t i = 1; i < stream.size(); ++i)
    every.push_back(i);
  CHECK(decode_pieces<LineDecoder>(stream, every, kMaxTextLine) == kTranscriptExpected);
}

TEST_CASE("an incomplete line waits", "[text]")
{
  LineDecoder decoder;
  const Bytes part = bytes_of("PIN");
  CHECK(decoder.feed(part) == 3);
  CHECK(std::holds_alternative<std::monostate>(decoder.next()));
  const Bytes rest = bytes_of("G\r\nHEX");
  CHECK(decoder.feed(rest) == 3);  // stops after the complete line
  CHECK(std::get<TextCommand>(decoder.next()).kind == Kind::ping);
}

TEST_CASE("HELP lists every command and ends in an empty line", "[text]")
{
  const std::string_view help = text_help();
  for (const char* name : {"PING", "HEX n", "BASE64 n", "HEALTH", "STATUS", "METRICS", "HELP", "QUIT"})
    CHECK(help.find(name) != std::string_view::npos);
  CHECK(help.ends_with("\n\n"));
}

TEST_CASE("ERR lines", "[text]")
{
  CHECK(format_text_error(Status::too_large, "count 5 exceeds --max-request 4") ==
        "ERR TOO_LARGE count 5 exceeds --max-request 4\n");
  CHECK(format_text_error(Status::not_ready, "") == "ERR NOT_READY\n");
}
