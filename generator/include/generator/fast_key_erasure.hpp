// The output generator: a stream cipher with fast key erasure (D. J.
// Bernstein, "Fast-key-erasure random-number generators", 2017): ChaCha20
// for the daemon's pool and by default, AES-256-CTR where a client asks.
//
// Why: the key that produced a byte must be gone before that byte leaves us,
// so nothing captured from memory later can reproduce output already handed
// out.  Each refill runs the cipher under the current key (nonce 0, counter 0)
// and writes the first 32 keystream bytes straight over the key in our
// memory, before any output is made.  A key thus makes exactly one keystream,
// of at most 64 B + the largest request, and the block counter cannot wrap.
// The other half of the first 64-byte block is wiped unused: output then
// starts on a block boundary, where OpenSSL's bulk code runs about 6% faster
// than from mid-block (measured).
//
// Two paths, one rule:
//  - small requests are served from a buffer of keystream held in locked
//    memory, and every served byte is wiped there at once, so a 32-byte
//    request costs a memcpy, not a cipher setup;
//  - requests of kDirectBytes or more get a keystream of their own: the first
//    32 bytes become the next key, the rest goes straight into the caller's
//    span, which saves a copy and a wipe per byte (this is the path that
//    has to run at the raw EVP cipher's speed).
// Buffered bytes a direct request skips stay buffered for later small
// requests; rekey() (a reseed) discards them, so no byte made before a
// reseed is served after it.
//
// Key and buffer live in one SecureBuffer.  The EVP context's copy of the
// key does not (see stream_cipher.hpp): the context is keyed from our key slot at
// the start of a refill and re-keyed with an all-zero key (scrubbed) at its
// end, so between calls OpenSSL's heap holds no key that made output nor the
// key that will make the next: the only copy of that one is in our locked,
// undumpable memory (and, in librngpool, wiped in a fork child).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "generator/stream_cipher.hpp"
#include "generator/secure_memory.hpp"

namespace rngpool::core {

class FastKeyErasure {
 public:
  // Output per buffer refill (after the 32 bytes of next key).  One page:
  // large enough that a refill's cipher setup is shared by 128 32-byte
  // requests, small enough to stay in L1.
  static constexpr std::size_t kRefillBytes = 4096;
  // From here on a request is cheaper with a keystream of its own than
  // copied out of the buffer and wiped there: measured, the two cost the
  // same near 2.5 KiB; at 1 KiB the buffer is 35% faster, at 4 KiB the
  // direct path is 15% faster.
  static constexpr std::size_t kDirectBytes = 3 * 1024;
  static constexpr std::size_t kBlockSize = kChaChaBlock;  // what EVP is asked for at once

  // All-zero key: call rekey() before generate().
  explicit FastKeyErasure(Cipher cipher = Cipher::chacha20);
  Cipher cipher() const { return cipher_.cipher(); }

  // Replaces the key (a reseed) and discards all buffered output.
  void rekey(std::span<const std::uint8_t, kKeySize> key);
  // A small request the buffer holds (a token: the common case) is served
  // inline, without a call; everything else goes through generate_more().
  void generate(std::span<std::uint8_t> out) {
    if (out.empty()) return;
    if (out.size() <= buffered() && out.size() < kDirectBytes) {
      serve(out);
      return;
    }
    generate_more(out);
  }

  // The current key, for chaining it into the next reseed.
  std::span<const std::uint8_t, kKeySize> key() const;
  // Output bytes waiting in the buffer.
  std::size_t buffered() const { return kRefillBytes - position_; }
  // All of our secure memory, so tests can check for leftovers.
  std::span<const std::uint8_t> secure_memory() const { return memory_.bytes(); }
  bool locked() const { return memory_.locked(); }
  // Zeroes key and buffer: nothing is left to serve until rekey().
  void wipe();
  // Our locked mappings (key, buffer, the cipher's tail block) wiped in a
  // fork child / locked again there (SecureBuffer::wipe_on_fork, relock).
  bool wipe_on_fork() { return memory_.wipe_on_fork() && cipher_.wipe_on_fork(); }
  bool relock() { return memory_.relock() & cipher_.relock(); }

 private:
  std::span<std::uint8_t, kKeySize> key_slot();
  std::span<std::uint8_t, kBlockSize> first_block();
  std::span<std::uint8_t> buffer() { return memory_.bytes().subspan(kBlockSize); }
  void erase_key();
  void scrub();
  void refill();
  // Copies out.size() <= buffered() bytes and wipes them in the buffer.
  void serve(std::span<std::uint8_t> out) {
    const auto taken = buffer().subspan(position_, out.size());
    std::memcpy(out.data(), taken.data(), taken.size());
    core::wipe(taken);
    position_ += taken.size();
  }
  void generate_more(std::span<std::uint8_t> out);
  void generate_direct(std::span<std::uint8_t> out);

  StreamCipher cipher_;
  SecureBuffer memory_;  // [key | unused half block | keystream buffer]
  std::size_t position_ = kRefillBytes;  // next unserved byte in the buffer
};

}  // namespace rngpool::core
