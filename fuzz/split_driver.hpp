// What both fuzz targets share: run a decoder over the input the way the
// daemon does (feed a piece, drain next(), feed the rest) with a chosen split
// of the stream, and abort on any broken invariant so libFuzzer keeps the
// input that broke it.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <span>
#include <variant>
#include <vector>

namespace rngpool::fuzz {

inline void check(bool ok, const char* invariant)
{
  if (ok)
    return;
  std::fprintf(stderr, "invariant broken: %s\n", invariant);
  std::abort();
}

// ---------------------------------------------------------------------------
// Splits
//
// The decoders promise that how read() cut the stream never matters, so each
// input runs whole, byte by byte, and in pieces drawn from a tiny PRNG seeded
// by the input's first byte: libFuzzer then mutates the split as well as the
// bytes.
// ---------------------------------------------------------------------------

class Splitter {
 public:
  static Splitter whole() { return Splitter{0, std::numeric_limits<std::size_t>::max()}; }
  static Splitter bytewise() { return Splitter{0, 1}; }
  static Splitter seeded(std::uint8_t seed) { return Splitter{seed | 0x100u, 0}; }

  std::size_t next_piece()
  {
    if (fixed_)
      return fixed_;
    state_ ^= state_ << 13;  // xorshift32
    state_ ^= state_ >> 17;
    state_ ^= state_ << 5;
    return 1 + state_ % 23;
  }

 private:
  Splitter(std::uint32_t state, std::size_t fixed) : state_(state), fixed_(fixed) {}
  std::uint32_t state_;
  std::size_t fixed_;
};

// ---------------------------------------------------------------------------
// The driver
//
// `on_result` sees each result with the bytes consumed since the previous
// one; `is_final` says which results end the connection.  Checked here for
// every decoder: memory stays bounded, feed() never claims bytes it was not
// given, the decoder never stalls, and a final error stays final.
// ---------------------------------------------------------------------------

template <class Decoder, class OnResult, class IsFinal>
std::vector<typename Decoder::Result> drive(std::span<const std::uint8_t> stream, Splitter split,
                                            std::size_t max_buffered, OnResult on_result,
                                            IsFinal is_final)
{
  Decoder decoder;
  std::vector<typename Decoder::Result> results;
  std::size_t pos = 0;
  std::size_t last = 0;
  for (;;) {
    const std::size_t piece = std::min(split.next_piece(), stream.size() - pos);
    const std::size_t taken = decoder.feed(stream.subspan(pos, piece));
    check(taken <= piece, "feed() took more than it was given");
    pos += taken;
    check(decoder.buffered() <= max_buffered, "decoder buffer over its bound");
    bool produced = false;
    for (auto result = decoder.next(); !std::holds_alternative<std::monostate>(result);
         result = decoder.next()) {
      on_result(result, stream.subspan(last, pos - last));
      last = pos;
      results.push_back(result);
      produced = true;
      if (is_final(result)) {
        check(decoder.next() == result, "a final error did not stay");
        check(decoder.feed(stream.subspan(pos)) == 0, "bytes taken after a final error");
        return results;
      }
    }
    if (pos == stream.size())
      return results;
    check(taken > 0 || produced, "decoder stalled with input left");
  }
}

// Runs all three splits and checks they agree.
template <class Decoder, class OnResult, class IsFinal>
void drive_all_splits(std::span<const std::uint8_t> input, std::size_t max_buffered,
                      OnResult on_result, IsFinal is_final)
{
  if (input.empty())
    return;
  const auto stream = input.subspan(1);
  const auto whole = drive<Decoder>(stream, Splitter::whole(), max_buffered, on_result, is_final);
  const auto bytewise = drive<Decoder>(stream, Splitter::bytewise(), max_buffered, on_result, is_final);
  const auto seeded = drive<Decoder>(stream, Splitter::seeded(input[0]), max_buffered, on_result, is_final);
  check(whole == bytewise, "byte-by-byte split changed the result");
  check(whole == seeded, "seeded split changed the result");
}

}  // namespace rngpool::fuzz
