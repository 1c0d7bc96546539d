// The input pool: hwrng bytes hashed until a reseed takes them.
#include "core/input_pool.hpp"

namespace rngpool::core {

// The label keeps this hash apart from the reseed hash (see pool.cpp).
InputPool::InputPool(const char* label) : hash_(label) {}

void InputPool::absorb(std::span<const std::uint8_t> bytes) {
  hash_.update(bytes);
  pending_ += bytes.size();
}

void InputPool::drain(std::span<std::uint8_t, kBlake2b256Size> digest) {
  hash_.finish(digest);
  pending_ = 0;
}

}  // namespace rngpool::core
