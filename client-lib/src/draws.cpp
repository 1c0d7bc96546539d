// Uniform integers in an interval.
//
// Reducing a random 64-bit word x to [0, n) by x % n favours small results
// whenever n does not divide 2^64.  We use Lemire's nearly divisionless method
// (D. Lemire, "Fast Random Integer Generation in an Interval", ACM TOMACS
// 2019): the high word of x * n is the result, and the low word tells when x
// fell in the 2^64 mod n values that would over-represent some results, in
// which case x is rejected and drawn again.  Each draw is accepted with
// probability > 1/2, so the expected number of words is below 2.
#include "draws.hpp"

#include <algorithm>
#include <cstring>

#include <openssl/crypto.h>

namespace rngpool::detail {

Draws::Draws(const Client& client, std::size_t expected_draws)
    : client_(client),
      batch_(std::span(storage_).first(std::clamp<std::size_t>(expected_draws, 1, kMaxBatch / 8) * 8)),
      used_(batch_.size()) {}

Draws::~Draws() { OPENSSL_cleanse(batch_.data(), batch_.size()); }

std::uint64_t Draws::next_u64() {
  if (used_ == batch_.size()) {
    client_.fill(batch_);
    used_ = 0;
  }
  std::uint64_t word = 0;
  std::memcpy(&word, batch_.data() + used_, sizeof word);
  OPENSSL_cleanse(batch_.data() + used_, sizeof word);
  used_ += sizeof word;
  return word;
}

std::uint64_t Draws::below(std::uint64_t n) {
  using u128 = unsigned __int128;
  u128 product = static_cast<u128>(next_u64()) * n;
  auto low = static_cast<std::uint64_t>(product);
  if (low < n) {
    const std::uint64_t threshold = (0 - n) % n;  // 2^64 mod n
    while (low < threshold) {
      product = static_cast<u128>(next_u64()) * n;
      low = static_cast<std::uint64_t>(product);
    }
  }
  return static_cast<std::uint64_t>(product >> 64);
}

}  // namespace rngpool::detail
