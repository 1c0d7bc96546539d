// Fast key erasure: the ratchet, the buffer, the direct path, over each
// cipher (ChaCha20 and AES-256-CTR: every case runs for both).  The expected
// streams are rebuilt with the cipher wrapper itself, whose RFC 8439 and
// SP 800-38A vectors are checked in test_stream_cipher.cpp.
#include <catch2/catch.hpp>

#include <array>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "generator/stream_cipher.hpp"
#include "generator/fast_key_erasure.hpp"
#include "rngpool/test/process_memory.hpp"
#include "test_pool_support.hpp"

using rngpool::core::Cipher;
using rngpool::core::StreamCipher;
using rngpool::core::FastKeyErasure;
using rngpool::core::kKeySize;
using rngpool::test::contains;
using rngpool::test::Needle;
using rngpool::test::scan_memory;

namespace {

using Key = std::array<std::uint8_t, kKeySize>;

Key key_of(std::uint8_t fill) {
  Key k{};
  k.fill(fill);
  return k;
}

Key copy(std::span<const std::uint8_t, kKeySize> key) {
  Key k{};
  std::copy(key.begin(), key.end(), k.begin());
  return k;
}

// The stream a key makes: its first 32 bytes are the next key.
std::vector<std::uint8_t> stream_of(Cipher cipher, const Key& key, std::size_t n) {
  StreamCipher c(cipher);
  c.start(key);
  std::vector<std::uint8_t> out(n);
  c.keystream(out);
  return out;
}

std::vector<std::uint8_t> generate(FastKeyErasure& g, std::size_t n) {
  std::vector<std::uint8_t> out(n);
  g.generate(out);
  return out;
}

std::vector<std::uint8_t> slice(const std::vector<std::uint8_t>& v, std::size_t from, std::size_t n) {
  return {v.begin() + static_cast<std::ptrdiff_t>(from), v.begin() + static_cast<std::ptrdiff_t>(from + n)};
}

constexpr std::size_t kRefill = FastKeyErasure::kRefillBytes;
// Output starts after the first block: its first half is the next key, its
// second half is wiped unused.
constexpr std::size_t kOut = FastKeyErasure::kBlockSize;

}  // namespace

TEST_CASE("Key erasure: a refill takes the next key from the first 32 keystream bytes", "[pool][erasure]") {
  const Cipher cipher = GENERATE(Cipher::chacha20, Cipher::aes256_ctr);
  FastKeyErasure g(cipher);
  const Key k0 = key_of(0x42);
  g.rekey(k0);
  CHECK(g.buffered() == 0);

  const auto expected = stream_of(cipher, k0, kOut + kRefill);
  const auto out = generate(g, 32);
  CHECK(std::vector<std::uint8_t>(g.key().begin(), g.key().end()) == slice(expected, 0, kKeySize));
  CHECK(out == slice(expected, kOut, 32));
  CHECK(g.buffered() == kRefill - 32);
  // The rest of the refill comes from the same stream, without a new key.
  CHECK(generate(g, 100) == slice(expected, kOut + 32, 100));
}

TEST_CASE("Key erasure: large requests get a keystream of their own", "[pool][erasure]") {
  const Cipher cipher = GENERATE(Cipher::chacha20, Cipher::aes256_ctr);
  FastKeyErasure g(cipher);
  const Key k0 = key_of(0x17);
  g.rekey(k0);
  const std::size_t n = FastKeyErasure::kDirectBytes + 5;
  const auto expected = stream_of(cipher, k0, kOut + n);
  CHECK(generate(g, n) == slice(expected, kOut, n));
  CHECK(std::vector<std::uint8_t>(g.key().begin(), g.key().end()) == slice(expected, 0, kKeySize));
  CHECK(g.buffered() == 0);
}

TEST_CASE("Key erasure: the key changes on every refill and every direct request", "[pool][erasure]") {
  const Cipher cipher = GENERATE(Cipher::chacha20, Cipher::aes256_ctr);
  FastKeyErasure g(cipher);
  g.rekey(key_of(1));
  std::set<Key> keys{copy(g.key())};
  std::size_t refills = 0;
  for (std::size_t round = 0; round < 20; ++round) {
    const Key before = copy(g.key());
    if (round % 2 == 0) {
      generate(g, 64 * 1024);  // direct
    } else {
      generate(g, 16);          // buffer empty: refill
      generate(g, g.buffered());  // drain it, so the next small request refills
    }
    ++refills;
    CHECK(copy(g.key()) != before);
    keys.insert(copy(g.key()));
  }
  CHECK(keys.size() == refills + 1);
}

TEST_CASE("Key erasure: no earlier key and no served byte is left in our memory", "[pool][erasure]") {
  const Cipher cipher = GENERATE(Cipher::chacha20, Cipher::aes256_ctr);
  FastKeyErasure g(cipher);
  g.rekey(key_of(9));
  std::vector<Key> old_keys;
  std::vector<std::vector<std::uint8_t>> served;
  for (std::size_t n : {std::size_t{32}, std::size_t{32}, kRefill, std::size_t{64 * 1024}, std::size_t{48}}) {
    const Key before = copy(g.key());
    served.push_back(generate(g, n));
    if (copy(g.key()) != before) old_keys.push_back(before);  // served from the buffer: no new key
  }
  REQUIRE(old_keys.size() == 3);
  const auto memory = g.secure_memory();
  for (const auto& k : old_keys) {
    CHECK_FALSE(contains(memory, k));
  }
  for (const auto& out : served) {
    CHECK_FALSE(contains(memory, std::span(out).first(32)));
  }
  // Everything between the key and the unserved tail of the buffer is zero:
  // the unused half block and every served byte.
  const auto wiped = memory.subspan(kKeySize, kOut - kKeySize + kRefill - g.buffered());
  CHECK(std::all_of(wiped.begin(), wiped.end(), [](std::uint8_t b) { return b == 0; }));
}

TEST_CASE("Key erasure: rekey() discards buffered output", "[pool][erasure]") {
  const Cipher cipher = GENERATE(Cipher::chacha20, Cipher::aes256_ctr);
  FastKeyErasure g(cipher);
  g.rekey(key_of(3));
  generate(g, 32);
  REQUIRE(g.buffered() > 0);

  const Key k1 = key_of(4);
  g.rekey(k1);
  CHECK(g.buffered() == 0);
  const auto buffer = g.secure_memory().subspan(kKeySize);
  CHECK(std::all_of(buffer.begin(), buffer.end(), [](std::uint8_t b) { return b == 0; }));
  // The next output is k1's, not leftovers made under the old key.
  CHECK(generate(g, 32) == slice(stream_of(cipher, k1, kOut + 32), kOut, 32));
}

// Issue 9, item 4: a direct request whose size is not a multiple of 64 left
// its last size % 64 bytes in the EVP context's partial-block buffer, on
// OpenSSL's heap.  The whole process's memory is searched (the test's own
// copies are masked, see process_memory.hpp) for the tail of every reply and
// for every key that made output, while the generator is still alive.
TEST_CASE("Key erasure: no served tail and no used key is left anywhere in the process", "[pool][erasure]") {
  const Cipher cipher = GENERATE(Cipher::chacha20, Cipher::aes256_ctr);
  FastKeyErasure g(cipher);
  Key seed{};
  std::random_device device;
  for (auto& b : seed) b = static_cast<std::uint8_t>(device());
  g.rekey(seed);
  rngpool::core::wipe(seed);
  std::vector<Needle> needles;
  // 3080 and 5000: the sizes; 4464: what 70000 bytes leave after a
  // 64 KiB piece; 100: a small request, served from a refill; 65535: the
  // longest tail.  Every key here made output, so every one must be gone.
  for (std::size_t n : {std::size_t{3080}, std::size_t{5000}, std::size_t{4464}, std::size_t{100},
                        std::size_t{65535}}) {
    needles.emplace_back(g.key(), "the key before a " + std::to_string(n) + "-byte request");
    std::vector<std::uint8_t> out(n);
    g.generate(out);
    const std::size_t tail = std::max<std::size_t>(n % FastKeyErasure::kBlockSize, 8);
    needles.emplace_back(std::span(out).last(tail), "the last " + std::to_string(tail) + " bytes of " +
                                                        std::to_string(n));
    rngpool::core::wipe(out);
  }
  const auto scan = scan_memory(0, needles);
  for (const auto& skipped : scan.skipped) WARN("not searched: " << skipped);
  CHECK(scan.bytes_read > 0);
  for (const auto& hit : scan.hits) FAIL_CHECK(hit.needle << " found in " << hit.region);
}

// Issue 11: the key that will make the next output must exist only in our
// locked, undumpable (and, in librngpool, wipe-on-fork) memory: the EVP
// context on OpenSSL's heap is scrubbed with an all-zero key after every
// refill and direct request.  wipe() clears our copy, so a hit anywhere is a
// copy outside it.
TEST_CASE("Key erasure: between calls the next key is nowhere but in our locked memory", "[pool][erasure]") {
  const Cipher cipher = GENERATE(Cipher::chacha20, Cipher::aes256_ctr);
  FastKeyErasure g(cipher);
  Key seed{};
  std::random_device device;
  for (auto& b : seed) b = static_cast<std::uint8_t>(device());
  g.rekey(seed);
  rngpool::core::wipe(seed);
  std::vector<Needle> needles;
  for (std::size_t n : {std::size_t{32}, std::size_t{5000}}) {
    std::vector<std::uint8_t> out(n);
    g.generate(out);
    rngpool::core::wipe(out);
    needles.emplace_back(g.key(), "the next key after a " + std::to_string(n) + "-byte request");
  }
  g.wipe();
  CHECK(g.buffered() == 0);
  const auto scan = scan_memory(0, needles);
  for (const auto& skipped : scan.skipped) WARN("not searched: " << skipped);
  CHECK(scan.bytes_read > 0);
  for (const auto& hit : scan.hits) FAIL_CHECK(hit.needle << " found in " << hit.region);
}
