// Fast key erasure: the key ratchet, the buffer, the direct path.
#include "generator/fast_key_erasure.hpp"

#include <algorithm>
#include <array>
#include <cstring>

namespace rngpool::core {

// ---------------------------------------------------------------------------
// Memory layout
//
// One SecureBuffer holds the key and the keystream buffer, so a single
// mapping is locked and hidden from dumps, and tests can search all of it.
// ---------------------------------------------------------------------------

FastKeyErasure::FastKeyErasure(Cipher cipher) : cipher_(cipher), memory_(kBlockSize + kRefillBytes) { scrub(); }

std::span<std::uint8_t, kKeySize> FastKeyErasure::key_slot() {
  return memory_.bytes().first<kKeySize>();
}

std::span<const std::uint8_t, kKeySize> FastKeyErasure::key() const {
  return memory_.bytes().first<kKeySize>();
}

std::span<std::uint8_t, FastKeyErasure::kBlockSize> FastKeyErasure::first_block() {
  return memory_.bytes().first<kBlockSize>();
}

// ---------------------------------------------------------------------------
// The key ratchet
//
// Bernstein's fast key erasure: the first 32 bytes of each keystream are the
// next key.  The first block is written over the key slot itself, so the old
// key is gone from our memory before any output exists; the EVP context still
// holds the running stream, which the caller finishes and then scrubs: an
// all-zero key written over the context's copy (see the header).
// ---------------------------------------------------------------------------

namespace {

constexpr std::array<std::uint8_t, kKeySize> kZeroKey{};

}  // namespace

void FastKeyErasure::erase_key() {
  cipher_.start(key_slot());
  const auto block = first_block();
  cipher_.keystream(block);
  core::wipe(block.subspan<kKeySize>());
}

void FastKeyErasure::scrub() { cipher_.start(kZeroKey); }

void FastKeyErasure::rekey(std::span<const std::uint8_t, kKeySize> key) {
  std::memcpy(key_slot().data(), key.data(), kKeySize);
  core::wipe(buffer());
  position_ = kRefillBytes;
}

void FastKeyErasure::wipe() {
  memory_.wipe();
  position_ = kRefillBytes;
}

// ---------------------------------------------------------------------------
// Small requests: the buffer
//
// Served bytes are wiped in place at once, so the buffer only ever holds
// output nobody has seen.
// ---------------------------------------------------------------------------

void FastKeyErasure::refill() {
  erase_key();
  cipher_.keystream(buffer());
  scrub();
  position_ = 0;
}

// ---------------------------------------------------------------------------
// Large requests: a keystream of their own
// ---------------------------------------------------------------------------

void FastKeyErasure::generate_direct(std::span<std::uint8_t> out) {
  erase_key();
  cipher_.keystream(out);
  scrub();
}

void FastKeyErasure::generate_more(std::span<std::uint8_t> out) {
  if (out.size() >= kDirectBytes) {
    generate_direct(out);
    return;
  }
  while (!out.empty()) {
    if (buffered() == 0) {
      refill();
    }
    const std::size_t n = std::min(out.size(), buffered());
    serve(out.first(n));
    out = out.subspan(n);
  }
}

}  // namespace rngpool::core
