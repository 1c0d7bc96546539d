// Encodings against RFC 4648 §10's test vectors and against Python, whose
// secrets.token_urlsafe output our token_urlsafe must match byte for byte.

#include "rngpool/protocol/encoding.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <string_view>

using namespace rngpool::protocol;

namespace {

// RFC 4648 §10: the encodings of the prefixes of "foobar".
constexpr std::array<std::string_view, 7> kRfcInput = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
constexpr std::array<std::string_view, 7> kRfcBase64 = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                                         "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
// RFC 4648 §10 BASE16, lowercased (§8 lets the case vary).
constexpr std::array<std::string_view, 7> kRfcHex = {"", "66", "666f", "666f6f", "666f6f62", "666f6f6261",
                                                      "666f6f626172"};

// sample()[i] = (97 i + 251) mod 256: a fixed pattern whose encodings use
// both '-' and '_', the two characters where base64url differs.
std::array<std::uint8_t, 64> sample()
{
  std::array<std::uint8_t, 64> out{};
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = static_cast<std::uint8_t>((97 * i + 251) % 256);
  return out;
}

// base64url of the first n bytes of sample(), n = 0..64, computed with Python:
//   base64.urlsafe_b64encode(sample[:n]).rstrip(b"=")  (what secrets.token_urlsafe prints)
constexpr std::array<std::string_view, 65> kPythonUrlsafe = {
    "",
    "-w",
    "-1w",
    "-1y9",
    "-1y9Hg",
    "-1y9Hn8",
    "-1y9Hn_g",
    "-1y9Hn_gQQ",
    "-1y9Hn_gQaI",
    "-1y9Hn_gQaID",
    "-1y9Hn_gQaIDZA",
    "-1y9Hn_gQaIDZMU",
    "-1y9Hn_gQaIDZMUm",
    "-1y9Hn_gQaIDZMUmhw",
    "-1y9Hn_gQaIDZMUmh-g",
    "-1y9Hn_gQaIDZMUmh-hJ",
    "-1y9Hn_gQaIDZMUmh-hJqg",
    "-1y9Hn_gQaIDZMUmh-hJqgs",
    "-1y9Hn_gQaIDZMUmh-hJqgts",
    "-1y9Hn_gQaIDZMUmh-hJqgtszQ",
    "-1y9Hn_gQaIDZMUmh-hJqgtszS4",
    "-1y9Hn_gQaIDZMUmh-hJqgtszS6P",
    "-1y9Hn_gQaIDZMUmh-hJqgtszS6P8A",
    "-1y9Hn_gQaIDZMUmh-hJqgtszS6P8FE",
    "-1y9Hn_gQaIDZMUmh-hJqgtszS6P8FGy",
    "-1y9Hn_gQaIDZMUmh-hJqgtszS6P8FGyEw",
    "-1y9Hn_gQaIDZMUmh-hJqgtszS6P8FGyE3Q",
    "-1y9Hn_gQaIDZMUmh-hJqgtszS6P8FGyE3TV",
    "-1y9Hn_gQaIDZMUmh-hJqgtszS6P8FGyE3TVNg",
    "-1y9Hn_gQaIDZMUmh-hJqgtszS6P8FGyE3TVNpc",
    "-1y9Hn_gQaIDZMUmh-hJqgtszS6P8FGyE3TVNpf4",
    "-1y9Hn_gQaIDZMUmh-hJqgtszS6P8FGyE3TVNpf4WQ",
    "-1y9Hn_gQaIDZMUmh-hJqgtszS6P8FGyE3TVNpf4Wbo",
    "-1y9Hn_gQaIDZMUmh-hJqgtszS6P8FGyE3TVNpf4Wbob",
    "-1y9Hn_gQaIDZMUmh-hJqgtszS6P8FGyE3TVNpf4WbobfA",
    "-1y9Hn_gQaIDZMUmh-hJqgtszS6P8FGyE3TVNpf4WbobfN0",
    "-1y9Hn_gQaIDZMUmh-hJqgtszS6P8FGyE3TVNpf4WbobfN0-",
    "-1y9Hn_gQaIDZMUmh-hJqgtszS6P8FGyE3TVNpf4WbobfN0-nw",
    "-1y9Hn_gQaIDZMUmh-hJqgtszS6P8FGyE3TVNpf4WbobfN0-nwA",
    "-1y9Hn_gQaIDZMUmh-hJqgtszS6P8FGyE3TVNpf4WbobfN0-nwBh",
    "-1y9Hn_gQaIDZMUmh-hJqgtszS6P8FGyE3TVNpf4WbobfN0-nwBhwg",
    "-1y9Hn_gQaIDZMUmh-hJqgtszS6P8FGyE3TVNpf4WbobfN0-nwBhwiM",
    "-1y9Hn_gQaIDZMUmh-hJqgtszS6P8FGyE3TVNpf4WbobfN0-nwBhwiOE",
    "-1y9Hn_gQaIDZMUmh-hJqgtszS6P8FGyE3TVNpf4WbobfN0-nwBhwiOE5Q",
    "-1y9Hn_gQaIDZMUmh-hJqgtszS6P8FGyE3TVNpf4WbobfN0-nwBhwiOE5UY",
    "-1y9Hn_gQaIDZMUmh-hJqgtszS6P8FGyE3TVNpf4WbobfN0-nwBhwiOE5Uan",
    "-1y9Hn_gQaIDZMUmh-hJqgtszS6P8FGyE3TVNpf4WbobfN0-nwBhwiOE5UanCA",
    "-1y9Hn_gQaIDZMUmh-hJqgtszS6P8FGyE3TVNpf4WbobfN0-nwBhwiOE5UanCGk",
    "-1y9Hn_gQaIDZMUmh-hJqgtszS6P8FGyE3TVNpf4WbobfN0-nwBhwiOE5UanCGnK",
    "-1y9Hn_gQaIDZMUmh-hJqgtszS6P8FGyE3TVNpf4WbobfN0-nwBhwiOE5UanCGnKKw",
    "-1y9Hn_gQaIDZMUmh-hJqgtszS6P8FGyE3TVNpf4WbobfN0-nwBhwiOE5UanCGnKK4w",
    "-1y9Hn_gQaIDZMUmh-hJqgtszS6P8FGyE3TVNpf4WbobfN0-nwBhwiOE5UanCGnKK4zt",
    "-1y9Hn_gQaIDZMUmh-hJqgtszS6P8FGyE3TVNpf4WbobfN0-nwBhwiOE5UanCGnKK4ztTg",
    "-1y9Hn_gQaIDZMUmh-hJqgtszS6P8FGyE3TVNpf4WbobfN0-nwBhwiOE5UanCGnKK4ztTq8",
    "-1y9Hn_gQaIDZMUmh-hJqgtszS6P8FGyE3TVNpf4WbobfN0-nwBhwiOE5UanCGnKK4ztTq8Q",
    "-1y9Hn_gQaIDZMUmh-hJqgtszS6P8FGyE3TVNpf4WbobfN0-nwBhwiOE5UanCGnKK4ztTq8QcQ",
    "-1y9Hn_gQaIDZMUmh-hJqgtszS6P8FGyE3TVNpf4WbobfN0-nwBhwiOE5UanCGnKK4ztTq8QcdI",
    "-1y9Hn_gQaIDZMUmh-hJqgtszS6P8FGyE3TVNpf4WbobfN0-nwBhwiOE5UanCGnKK4ztTq8QcdIz",
    "-1y9Hn_gQaIDZMUmh-hJqgtszS6P8FGyE3TVNpf4WbobfN0-nwBhwiOE5UanCGnKK4ztTq8QcdIzlA",
    "-1y9Hn_gQaIDZMUmh-hJqgtszS6P8FGyE3TVNpf4WbobfN0-nwBhwiOE5UanCGnKK4ztTq8QcdIzlPU",
    "-1y9Hn_gQaIDZMUmh-hJqgtszS6P8FGyE3TVNpf4WbobfN0-nwBhwiOE5UanCGnKK4ztTq8QcdIzlPVW",
    "-1y9Hn_gQaIDZMUmh-hJqgtszS6P8FGyE3TVNpf4WbobfN0-nwBhwiOE5UanCGnKK4ztTq8QcdIzlPVWtw",
    "-1y9Hn_gQaIDZMUmh-hJqgtszS6P8FGyE3TVNpf4WbobfN0-nwBhwiOE5UanCGnKK4ztTq8QcdIzlPVWtxg",
    "-1y9Hn_gQaIDZMUmh-hJqgtszS6P8FGyE3TVNpf4WbobfN0-nwBhwiOE5UanCGnKK4ztTq8QcdIzlPVWtxh5",
    "-1y9Hn_gQaIDZMUmh-hJqgtszS6P8FGyE3TVNpf4WbobfN0-nwBhwiOE5UanCGnKK4ztTq8QcdIzlPVWtxh52g",
};

constexpr std::string_view kPythonSampleHex =
    "fb5cbd1e7fe041a20364c52687e849aa0b6ccd2e8ff051b21374d53697f859ba"
    "1b7cdd3e9f0061c22384e546a70869ca2b8ced4eaf1071d23394f556b71879da";

std::span<const std::uint8_t> as_bytes(std::string_view text)
{
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

}  // namespace

TEST_CASE("base64 matches RFC 4648 §10", "[encoding]")
{
  for (std::size_t i = 0; i < kRfcInput.size(); ++i)
    CHECK(to_base64(as_bytes(kRfcInput[i])) == kRfcBase64[i]);
}

TEST_CASE("hex matches RFC 4648 §10, lowercase", "[encoding]")
{
  for (std::size_t i = 0; i < kRfcInput.size(); ++i)
    CHECK(to_hex(as_bytes(kRfcInput[i])) == kRfcHex[i]);
  const std::array<std::uint8_t, 4> edges = {0x00, 0x0f, 0xf0, 0xff};
  CHECK(to_hex(edges) == "000ff0ff");
}

TEST_CASE("hex of the sample matches Python's bytes.hex()", "[encoding]")
{
  CHECK(to_hex(sample()) == kPythonSampleHex);
}

TEST_CASE("base64url matches Python's token_urlsafe encoding for n = 0..64", "[encoding]")
{
  const auto bytes = sample();
  for (std::size_t n = 0; n <= 64; ++n) {
    INFO("n = " << n);
    CHECK(to_base64url(std::span{bytes}.first(n)) == kPythonUrlsafe[n]);
  }
}

TEST_CASE("base64url is base64 with the URL alphabet and no padding", "[encoding]")
{
  const auto bytes = sample();
  for (std::size_t n = 0; n <= 64; ++n) {
    std::string standard = to_base64(std::span{bytes}.first(n));
    while (!standard.empty() && standard.back() == '=')
      standard.pop_back();
    for (char& c : standard)
      c = c == '+' ? '-' : c == '/' ? '_' : c;
    CHECK(to_base64url(std::span{bytes}.first(n)) == standard);
    CHECK(to_base64(std::span{bytes}.first(n)).size() == (n + 2) / 3 * 4);
  }
}
