// Shared by the protocol tests: drive a decoder over a stream cut into
// pieces, and describe its results as strings so Catch prints a readable
// difference when two runs disagree.
#pragma once

#include "rngpool/protocol/frame.hpp"
#include "rngpool/protocol/text.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rngpool::protocol::test {

using Bytes = std::vector<std::uint8_t>;

inline Bytes bytes_of(std::string_view text)
{
  return Bytes(text.begin(), text.end());
}

inline Bytes concat(std::initializer_list<Bytes> parts)
{
  Bytes out;
  for (const Bytes& part : parts)
    out.insert(out.end(), part.begin(), part.end());
  return out;
}

// ---------------------------------------------------------------------------
// Describing results
// ---------------------------------------------------------------------------

inline std::string describe(const RequestDecoder::Result& result)
{
  if (const auto* request = std::get_if<Request>(&result))
    return "request " + std::string{opcode_name(request->opcode)} +
           " id=" + std::to_string(request->header.request_id) +
           " flags=" + std::to_string(request->header.flags) +
           " length=" + std::to_string(request->header.length) +
           " count=" + std::to_string(request->count);
  if (const auto* error = std::get_if<DecodeError>(&result))
    return "error " + std::string{status_name(error->status)} + " '" + error->reason +
           "' id=" + std::to_string(error->request_id) + " opcode=" + std::to_string(error->opcode);
  return "need more";
}

inline std::string describe(const LineDecoder::Result& result)
{
  if (const auto* command = std::get_if<TextCommand>(&result))
    return "command " + std::to_string(static_cast<int>(command->kind)) +
           " count=" + std::to_string(command->count);
  if (const auto* error = std::get_if<TextError>(&result))
    return std::string{error->fatal ? "fatal " : ""} + format_text_error(error->status, error->reason);
  return "need more";
}

inline bool ends_stream(const RequestDecoder::Result& result)
{
  const auto* error = std::get_if<DecodeError>(&result);
  return error && is_fatal(error->status);
}

inline bool ends_stream(const LineDecoder::Result& result)
{
  const auto* error = std::get_if<TextError>(&result);
  return error && error->fatal;
}

// ---------------------------------------------------------------------------
// Driving a decoder
//
// The loop a server runs: feed a piece, drain next(), feed the rest of the
// piece.  It stops at the first fatal error and checks on every step that the
// decoder holds no more than `max_buffered` bytes and always makes progress.
// ---------------------------------------------------------------------------

template <class Decoder>
std::vector<std::string> decode_pieces(std::span<const std::uint8_t> stream,
                                       const std::vector<std::size_t>& cuts,
                                       std::size_t max_buffered)
{
  Decoder decoder;
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= cuts.size(); ++i) {
    const std::size_t end = i < cuts.size() ? cuts[i] : stream.size();
    auto piece = stream.subspan(start, end - start);
    start = end;
    for (;;) {
      const std::size_t taken = decoder.feed(piece);
      piece = piece.subspan(taken);
      REQUIRE(decoder.buffered() <= max_buffered);
      bool produced = false;
      for (auto result = decoder.next(); !std::holds_alternative<std::monostate>(result);
           result = decoder.next()) {
        out.push_back(describe(result));
        produced = true;
        if (ends_stream(result))
          return out;
      }
      if (piece.empty())
        break;
      REQUIRE((taken > 0 || produced));
    }
  }
  return out;
}

template <class Decoder>
std::vector<std::string> decode_whole(std::span<const std::uint8_t> stream, std::size_t max_buffered)
{
  return decode_pieces<Decoder>(stream, {}, max_buffered);
}

}  // namespace rngpool::protocol::test
