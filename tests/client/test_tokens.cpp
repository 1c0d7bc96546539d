// Tokens: sizes, defaults, encodings (checked against Python's secrets).
#include "sources.hpp"

#include <catch2/catch.hpp>

#include <array>

using rngpool::Client;
using rngpool::test::replay_source;

namespace {

// Input byte i of the n-byte token is (53 i + 250) mod 256.
std::vector<std::uint8_t> pattern(std::size_t n) {
  std::vector<std::uint8_t> bytes(n);
  for (std::size_t i = 0; i < n; ++i) bytes[i] = static_cast<std::uint8_t>((i * 53 + 250) % 256);
  return bytes;
}

// base64.urlsafe_b64encode(pattern(n)).rstrip(b'=').decode() for n = 0..64,
// computed with Python 3.11 (exactly what secrets.token_urlsafe does to its bytes).
const std::array<const char*, 65> kPythonUrlsafe{
    "",
    "-g",
    "-i8",
    "-i9k",
    "-i9kmQ",
    "-i9kmc4",
    "-i9kmc4D",
    "-i9kmc4DOA",
    "-i9kmc4DOG0",
    "-i9kmc4DOG2i",
    "-i9kmc4DOG2i1w",
    "-i9kmc4DOG2i1ww",
    "-i9kmc4DOG2i1wxB",
    "-i9kmc4DOG2i1wxBdg",
    "-i9kmc4DOG2i1wxBdqs",
    "-i9kmc4DOG2i1wxBdqvg",
    "-i9kmc4DOG2i1wxBdqvgFQ",
    "-i9kmc4DOG2i1wxBdqvgFUo",
    "-i9kmc4DOG2i1wxBdqvgFUp_",
    "-i9kmc4DOG2i1wxBdqvgFUp_tA",
    "-i9kmc4DOG2i1wxBdqvgFUp_tOk",
    "-i9kmc4DOG2i1wxBdqvgFUp_tOke",
    "-i9kmc4DOG2i1wxBdqvgFUp_tOkeUw",
    "-i9kmc4DOG2i1wxBdqvgFUp_tOkeU4g",
    "-i9kmc4DOG2i1wxBdqvgFUp_tOkeU4i9",
    "-i9kmc4DOG2i1wxBdqvgFUp_tOkeU4i98g",
    "-i9kmc4DOG2i1wxBdqvgFUp_tOkeU4i98ic",
    "-i9kmc4DOG2i1wxBdqvgFUp_tOkeU4i98idc",
    "-i9kmc4DOG2i1wxBdqvgFUp_tOkeU4i98idckQ",
    "-i9kmc4DOG2i1wxBdqvgFUp_tOkeU4i98idckcY",
    "-i9kmc4DOG2i1wxBdqvgFUp_tOkeU4i98idckcb7",
    "-i9kmc4DOG2i1wxBdqvgFUp_tOkeU4i98idckcb7MA",
    "-i9kmc4DOG2i1wxBdqvgFUp_tOkeU4i98idckcb7MGU",
    "-i9kmc4DOG2i1wxBdqvgFUp_tOkeU4i98idckcb7MGWa",
    "-i9kmc4DOG2i1wxBdqvgFUp_tOkeU4i98idckcb7MGWazw",
    "-i9kmc4DOG2i1wxBdqvgFUp_tOkeU4i98idckcb7MGWazwQ",
    "-i9kmc4DOG2i1wxBdqvgFUp_tOkeU4i98idckcb7MGWazwQ5",
    "-i9kmc4DOG2i1wxBdqvgFUp_tOkeU4i98idckcb7MGWazwQ5bg",
    "-i9kmc4DOG2i1wxBdqvgFUp_tOkeU4i98idckcb7MGWazwQ5bqM",
    "-i9kmc4DOG2i1wxBdqvgFUp_tOkeU4i98idckcb7MGWazwQ5bqPY",
    "-i9kmc4DOG2i1wxBdqvgFUp_tOkeU4i98idckcb7MGWazwQ5bqPYDQ",
    "-i9kmc4DOG2i1wxBdqvgFUp_tOkeU4i98idckcb7MGWazwQ5bqPYDUI",
    "-i9kmc4DOG2i1wxBdqvgFUp_tOkeU4i98idckcb7MGWazwQ5bqPYDUJ3",
    "-i9kmc4DOG2i1wxBdqvgFUp_tOkeU4i98idckcb7MGWazwQ5bqPYDUJ3rA",
    "-i9kmc4DOG2i1wxBdqvgFUp_tOkeU4i98idckcb7MGWazwQ5bqPYDUJ3rOE",
    "-i9kmc4DOG2i1wxBdqvgFUp_tOkeU4i98idckcb7MGWazwQ5bqPYDUJ3rOEW",
    "-i9kmc4DOG2i1wxBdqvgFUp_tOkeU4i98idckcb7MGWazwQ5bqPYDUJ3rOEWSw",
    "-i9kmc4DOG2i1wxBdqvgFUp_tOkeU4i98idckcb7MGWazwQ5bqPYDUJ3rOEWS4A",
    "-i9kmc4DOG2i1wxBdqvgFUp_tOkeU4i98idckcb7MGWazwQ5bqPYDUJ3rOEWS4C1",
    "-i9kmc4DOG2i1wxBdqvgFUp_tOkeU4i98idckcb7MGWazwQ5bqPYDUJ3rOEWS4C16g",
    "-i9kmc4DOG2i1wxBdqvgFUp_tOkeU4i98idckcb7MGWazwQ5bqPYDUJ3rOEWS4C16h8",
    "-i9kmc4DOG2i1wxBdqvgFUp_tOkeU4i98idckcb7MGWazwQ5bqPYDUJ3rOEWS4C16h9U",
    "-i9kmc4DOG2i1wxBdqvgFUp_tOkeU4i98idckcb7MGWazwQ5bqPYDUJ3rOEWS4C16h9UiQ",
    "-i9kmc4DOG2i1wxBdqvgFUp_tOkeU4i98idckcb7MGWazwQ5bqPYDUJ3rOEWS4C16h9Uib4",
    "-i9kmc4DOG2i1wxBdqvgFUp_tOkeU4i98idckcb7MGWazwQ5bqPYDUJ3rOEWS4C16h9Uib7z",
    "-i9kmc4DOG2i1wxBdqvgFUp_tOkeU4i98idckcb7MGWazwQ5bqPYDUJ3rOEWS4C16h9Uib7zKA",
    "-i9kmc4DOG2i1wxBdqvgFUp_tOkeU4i98idckcb7MGWazwQ5bqPYDUJ3rOEWS4C16h9Uib7zKF0",
    "-i9kmc4DOG2i1wxBdqvgFUp_tOkeU4i98idckcb7MGWazwQ5bqPYDUJ3rOEWS4C16h9Uib7zKF2S",
    "-i9kmc4DOG2i1wxBdqvgFUp_tOkeU4i98idckcb7MGWazwQ5bqPYDUJ3rOEWS4C16h9Uib7zKF2Sxw",
    "-i9kmc4DOG2i1wxBdqvgFUp_tOkeU4i98idckcb7MGWazwQ5bqPYDUJ3rOEWS4C16h9Uib7zKF2Sx_w",
    "-i9kmc4DOG2i1wxBdqvgFUp_tOkeU4i98idckcb7MGWazwQ5bqPYDUJ3rOEWS4C16h9Uib7zKF2Sx_wx",
    "-i9kmc4DOG2i1wxBdqvgFUp_tOkeU4i98idckcb7MGWazwQ5bqPYDUJ3rOEWS4C16h9Uib7zKF2Sx_wxZg",
    "-i9kmc4DOG2i1wxBdqvgFUp_tOkeU4i98idckcb7MGWazwQ5bqPYDUJ3rOEWS4C16h9Uib7zKF2Sx_wxZps",
    "-i9kmc4DOG2i1wxBdqvgFUp_tOkeU4i98idckcb7MGWazwQ5bqPYDUJ3rOEWS4C16h9Uib7zKF2Sx_wxZpvQ",
    "-i9kmc4DOG2i1wxBdqvgFUp_tOkeU4i98idckcb7MGWazwQ5bqPYDUJ3rOEWS4C16h9Uib7zKF2Sx_wxZpvQBQ",
};

Client replaying(std::size_t n) { return Client::from_source(replay_source(n ? pattern(n) : std::vector<std::uint8_t>{0})); }

}  // namespace

TEST_CASE("token_urlsafe matches Python's secrets.token_urlsafe for n = 0..64") {
  for (std::size_t n = 0; n <= 64; ++n) {
    INFO("n = " << n);
    const std::string token = replaying(n).token_urlsafe(n);
    CHECK(token == kPythonUrlsafe[n]);
    CHECK(token.size() == (4 * n + 2) / 3);  // Python: ceil(4n/3), no padding
    CHECK(token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
          std::string::npos);
  }
}

TEST_CASE("tokens default to 32 bytes, as Python's") {
  const Client client = Client::from_source(rngpool::test::seeded_source(1));
  CHECK(client.token_bytes().size() == 32);
  CHECK(client.token_hex().size() == 64);
  CHECK(client.token_urlsafe().size() == 43);
}

TEST_CASE("token_hex is the source's bytes in lowercase hex") {
  const Client client = Client::from_source(replay_source({0x00, 0x9f, 0xa0, 0xff}));
  CHECK(client.token_hex(4) == "009fa0ff");
  CHECK(client.token_hex(0).empty());
}

TEST_CASE("token_bytes returns exactly what the source gave") {
  const Client client = Client::from_source(replay_source(pattern(10)));
  CHECK(client.token_bytes(10) == pattern(10));
}

TEST_CASE("per-client and per-call flags reach the source") {
  std::vector<rngpool::RequestFlags> seen;
  const Client client = Client::from_source([&](std::span<std::uint8_t> out, rngpool::RequestFlags flags) {
    std::fill(out.begin(), out.end(), std::uint8_t{7});
    seen.push_back(flags);
  });
  client.token_bytes(1);
  client.with({.prediction_resistance = true, .require_hwrng = false, .nonblock = false}).token_bytes(1);
  client.with({.prediction_resistance = false, .require_hwrng = true, .nonblock = false})
      .with({.prediction_resistance = false, .require_hwrng = false, .nonblock = true})
      .randbelow(10);
  REQUIRE(seen.size() == 3);
  CHECK(!seen[0].prediction_resistance);
  CHECK(!seen[0].require_hwrng);
  CHECK(seen[1].prediction_resistance);
  CHECK(!seen[1].require_hwrng);
  CHECK(seen[2].require_hwrng);
  CHECK(seen[2].nonblock);
  CHECK(!seen[2].prediction_resistance);
}

TEST_CASE("a byte-source client has no daemon to report on") {
  const Client client = Client::from_source(rngpool::test::seeded_source(2));
  CHECK_THROWS_AS(client.status(), std::logic_error);
  CHECK_THROWS_AS(client.ping(), std::logic_error);
}
