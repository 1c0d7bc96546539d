// Helpers shared by the pool tests: hex literals, a deterministic stand-in
// for getrandom(2), and a search for leftovers in memory.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "core/pool.hpp"

namespace rngpool::test {

inline std::vector<std::uint8_t> from_hex(std::string_view hex) {
  auto nibble = [](char c) -> std::uint8_t {
    if (c >= '0' && c <= '9') return static_cast<std::uint8_t>(c - '0');
    if (c >= 'a' && c <= 'f') return static_cast<std::uint8_t>(c - 'a' + 10);
    throw std::invalid_argument("bad hex digit");
  };
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i + 1 < hex.size(); ++i) {
    if (hex[i] == ' ' || hex[i] == '\n') continue;
    out.push_back(static_cast<std::uint8_t>(nibble(hex[i]) << 4 | nibble(hex[i + 1])));
    ++i;
  }
  return out;
}

inline std::span<const std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Call c fills byte i with seed + 17c + i (mod 256), so every call differs
// and two fakes with the same seed agree.  Counts its calls; can be told to
// fail like a broken getrandom.
struct FakeEntropy {
  explicit FakeEntropy(std::uint8_t seed) : seed_(seed) {}

  core::SystemEntropy source() {
    return [self = shared_](std::span<std::uint8_t> out) {
      if (self->fail) throw std::runtime_error("fake getrandom failure");
      for (std::size_t i = 0; i < out.size(); ++i) {
        out[i] = static_cast<std::uint8_t>(self->seed + 17 * self->calls + i);
      }
      ++self->calls;
    };
  }
  int calls() const { return shared_->calls; }
  void set_failing(bool fail) { shared_->fail = fail; }

 private:
  struct Shared {
    std::uint8_t seed;
    int calls = 0;
    bool fail = false;
  };
  std::uint8_t seed_;
  std::shared_ptr<Shared> shared_ = std::make_shared<Shared>(Shared{seed_});
};

inline bool contains(std::span<const std::uint8_t> haystack, std::span<const std::uint8_t> needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) != haystack.end();
}

}  // namespace rngpool::test
