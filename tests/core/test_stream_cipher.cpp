// The stream-cipher wrapper the generators use: ChaCha20 against RFC 8439,
// AES-256-CTR against NIST SP 800-38A, and both for stream continuity and
// for what they leave in memory.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <random>
#include <string>
#include <vector>

#include "generator/stream_cipher.hpp"
#include "rngpool/test/process_memory.hpp"
#include "test_pool_support.hpp"

using rngpool::core::Cipher;
using rngpool::core::StreamCipher;
using rngpool::core::kKeySize;
using rngpool::core::kNonceSize;
using rngpool::test::from_hex;
using rngpool::test::Needle;
using rngpool::test::scan_memory;

namespace {

std::array<std::uint8_t, kKeySize> rfc_key() {
  std::array<std::uint8_t, kKeySize> key{};
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(i);
  return key;
}

std::array<std::uint8_t, kNonceSize> nonce_of(std::string_view hex) {
  const auto bytes = from_hex(hex);
  std::array<std::uint8_t, kNonceSize> nonce{};
  std::copy(bytes.begin(), bytes.end(), nonce.begin());
  return nonce;
}

std::vector<std::uint8_t> keystream(StreamCipher& c, std::size_t n) {
  std::vector<std::uint8_t> out(n);
  c.keystream(out);
  return out;
}

}  // namespace

TEST_CASE("ChaCha20: RFC 8439 §2.3.2 block function test vector", "[pool][chacha20]") {
  StreamCipher c;
  c.start(rfc_key(), 1, nonce_of("000000090000004a00000000"));
  CHECK(keystream(c, 64) == from_hex("10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e"
                                     "d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e"));
}

TEST_CASE("ChaCha20: RFC 8439 §2.4.2 encryption test vector", "[pool][chacha20]") {
  // Counter 1 and a nonce ending in 4a 00 00 00 00 pin the EVP IV layout:
  // little-endian counter first, nonce after.
  const std::string_view plaintext =
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, "
      "sunscreen would be it.";
  const auto expected = from_hex(
      "6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0b"
      "f91b65c5524733ab8f593dabcd62b3571639d624e65152ab8f530c359f0861d8"
      "07ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab7793736"
      "5af90bbf74a35be6b40b8eedf2785e42874d");
  StreamCipher c;
  c.start(rfc_key(), 1, nonce_of("000000000000004a00000000"));
  auto ciphertext = keystream(c, plaintext.size());
  for (std::size_t i = 0; i < plaintext.size(); ++i) {
    ciphertext[i] = static_cast<std::uint8_t>(ciphertext[i] ^ static_cast<std::uint8_t>(plaintext[i]));
  }
  CHECK(ciphertext == expected);
}

// SP 800-38A F.5.5, CTR-AES256.Encrypt: the counter block f0..ff pins the
// IV layout (nonce f0..fb, then the big-endian counter fcfdfeff), and the
// second block shows the counter's increment.
TEST_CASE("AES-256-CTR: NIST SP 800-38A F.5.5 test vector", "[pool][aes]") {
  const auto key = from_hex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4");
  const auto plaintext = from_hex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
                                  "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710");
  const auto expected = from_hex("601ec313775789a5b7a7f504bbf3d228f443e3ca4d62b59aca84e990cacaf5c5"
                                 "2b0930daa23de94ce87017ba2d84988ddfc9c58db67aada613c2dd08457941a6");
  std::array<std::uint8_t, kKeySize> k{};
  std::copy(key.begin(), key.end(), k.begin());
  StreamCipher c(Cipher::aes256_ctr);
  c.start(k, 0xfcfdfeff, nonce_of("f0f1f2f3f4f5f6f7f8f9fafb"));
  auto ciphertext = keystream(c, plaintext.size());
  for (std::size_t i = 0; i < plaintext.size(); ++i) ciphertext[i] ^= plaintext[i];
  CHECK(ciphertext == expected);
}

TEST_CASE("Stream cipher: calls continue the stream, even mid-block and across zero chunks", "[pool][cipher]") {
  const Cipher cipher = GENERATE(Cipher::chacha20, Cipher::aes256_ctr);
  StreamCipher whole(cipher);
  whole.start(rfc_key());
  const auto expected = keystream(whole, 40000);

  StreamCipher pieces(cipher);
  pieces.start(rfc_key());
  std::vector<std::uint8_t> got;
  for (std::size_t n : {1u, 31u, 32u, 100u, 17000u, 22836u}) {
    const auto part = keystream(pieces, n);
    got.insert(got.end(), part.begin(), part.end());
  }
  CHECK(got == expected);
}

TEST_CASE("Stream cipher: start() restarts the stream from block 0", "[pool][cipher]") {
  const Cipher cipher = GENERATE(Cipher::chacha20, Cipher::aes256_ctr);
  StreamCipher c(cipher);
  c.start(rfc_key());
  const auto first = keystream(c, 100);
  c.start(rfc_key());
  CHECK(keystream(c, 100) == first);

  auto other = rfc_key();
  other[0] ^= 1;
  c.start(other);
  CHECK(keystream(c, 100) != first);
}

// Issue 9, item 4, at the wrapper: EVP keeps a partial block of keystream in
// its context; the wrapper must never let it (see stream_cipher.hpp).
TEST_CASE("Stream cipher: a served tail is not left in the process's memory", "[pool][cipher]") {
  const Cipher cipher = GENERATE(Cipher::chacha20, Cipher::aes256_ctr);
  std::array<std::uint8_t, rngpool::core::kKeySize> key{};
  std::random_device device;
  for (auto& b : key) b = static_cast<std::uint8_t>(device());
  StreamCipher c(cipher);
  c.start(key);
  rngpool::core::wipe(key);
  std::vector<Needle> needles;
  for (std::size_t n : {std::size_t{3080}, std::size_t{100}, std::size_t{20}, std::size_t{63}}) {
    auto out = keystream(c, n);
    needles.emplace_back(std::span(out).last(8), "the last 8 bytes of " + std::to_string(n));
    rngpool::core::wipe(out);
  }
  const auto scan = scan_memory(0, needles);
  for (const auto& skipped : scan.skipped) WARN("not searched: " << skipped);
  for (const auto& hit : scan.hits) FAIL_CHECK(hit.needle << " found in " << hit.region);
}
