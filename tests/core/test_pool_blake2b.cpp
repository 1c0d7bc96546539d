// BLAKE2b-256 through EVP_MAC, and the input pool built on it.  Expected
// values come from Python's hashlib.blake2b(digest_size=32, key=label), an
// implementation independent of OpenSSL.
#include <catch2/catch.hpp>

#include <array>
#include <vector>

#include "core/blake2b.hpp"
#include "core/input_pool.hpp"
#include "test_pool_support.hpp"

using rngpool::core::Blake2b256;
using rngpool::core::InputPool;
using rngpool::core::kBlake2b256Size;
using rngpool::test::bytes_of;
using rngpool::test::from_hex;

namespace {

using Digest = std::array<std::uint8_t, kBlake2b256Size>;

std::vector<std::uint8_t> finish(Blake2b256& h) {
  Digest d{};
  h.finish(d);
  return {d.begin(), d.end()};
}

}  // namespace

TEST_CASE("BLAKE2b-256: a true 32-byte BLAKE2b, keyed with the label", "[pool][blake2b]") {
  Blake2b256 h("rngpool test label");
  h.update(bytes_of("abc"));
  CHECK(finish(h) == from_hex("b045964c1a694b11399e75bba9b44bed9ff395598656868827aa75ec804ebd7d"));
}

TEST_CASE("BLAKE2b-256: many blocks fed in uneven pieces", "[pool][blake2b]") {
  std::vector<std::uint8_t> message;
  for (int r = 0; r < 3; ++r) {
    for (int i = 0; i < 256; ++i) message.push_back(static_cast<std::uint8_t>(i));
  }
  Blake2b256 h("k");
  const std::span<const std::uint8_t> all(message);
  h.update(all.first(1));
  h.update(all.subspan(1, 128));
  h.update(all.subspan(129));
  CHECK(finish(h) == from_hex("bed7aed6524a0ad47eb072b31bc6342a15a2496b38d8048ea0285824696a0155"));
}

TEST_CASE("BLAKE2b-256: finish() restarts under the same label", "[pool][blake2b]") {
  std::string label(64, '\0');
  for (std::size_t i = 0; i < label.size(); ++i) label[i] = static_cast<char>(i);
  Blake2b256 h(label);
  const auto expected = from_hex("2fa9fbd9be36437de204e139e97d402bce68c828f43391608c891b5faed8a98a");
  CHECK(finish(h) == expected);
  CHECK(finish(h) == expected);
}

TEST_CASE("BLAKE2b-256: the label must fit the 1..64-byte key", "[pool][blake2b]") {
  CHECK_THROWS_AS(Blake2b256(""), std::invalid_argument);
  CHECK_THROWS_AS(Blake2b256(std::string(65, 'x')), std::invalid_argument);
}

TEST_CASE("Input pool: counts pending bytes and starts over when drained", "[pool][blake2b]") {
  InputPool a;
  InputPool b;
  CHECK(a.pending() == 0);
  a.absorb(bytes_of("hwrng "));
  a.absorb(bytes_of("bytes"));
  b.absorb(bytes_of("hwrng bytes"));
  CHECK(a.pending() == 11);

  Digest da{}, db{};
  a.drain(da);
  b.drain(db);
  CHECK(a.pending() == 0);
  CHECK(da == db);

  a.absorb(bytes_of("other bytes"));
  Digest again{};
  a.drain(again);
  CHECK(again != da);
}
