// librngpool against the real rngpoold: every function, flags, streaming, errors.
#include "rngpool/rngpool.hpp"
#include "rngpool/test/support.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <cstring>
#include <map>
#include <set>

using namespace rngpool;
using namespace rngpool::test;

namespace {

constexpr double kChi2Crit1 = 23.93;  // significance 1e-6, by degrees of freedom
constexpr double kChi2Crit5 = 35.89;
constexpr double kChi2Crit6 = 38.26;

double chi_square(const std::vector<std::uint64_t>& observed) {
  std::uint64_t total = 0;
  for (auto count : observed) total += count;
  const double expected = static_cast<double>(total) / static_cast<double>(observed.size());
  double statistic = 0;
  for (auto count : observed) {
    const double difference = static_cast<double>(count) - expected;
    statistic += difference * difference / expected;
  }
  return statistic;
}

// The daemon's bytes, fetched in 1 MiB batches and handed out as asked: the
// statistical tests then judge the library's reducers on real daemon output
// without 10^5 round trips.
Client over_daemon_bytes(const Client& daemon_client) {
  struct Batch {
    std::vector<std::uint8_t> bytes;
    std::size_t used = 0;
  };
  auto batch = std::make_shared<Batch>();
  return Client::from_source([batch, daemon_client](std::span<std::uint8_t> out, RequestFlags) {
    for (auto& byte : out) {
      if (batch->used == batch->bytes.size()) {
        batch->bytes = daemon_client.token_bytes(1u << 20);
        batch->used = 0;
      }
      byte = batch->bytes[batch->used++];
    }
  });
}

}  // namespace

TEST_CASE("client: every secrets function against rngpoold", "[client]") {
  TestDaemon daemon;
  const Client client(daemon.socket_path());

  CHECK(client.token_bytes().size() == 32);
  CHECK(client.token_bytes(0).empty());
  CHECK(client.token_bytes(16) != client.token_bytes(16));
  const std::string hex = client.token_hex(20);
  CHECK(hex.size() == 40);
  CHECK(hex.find_first_not_of("0123456789abcdef") == std::string::npos);
  const std::string url = client.token_urlsafe(33);
  CHECK(url.size() == 44);
  CHECK(url.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
        std::string::npos);
  CHECK(client.randbelow(10) < 10);
  CHECK_THROWS_AS(client.randbelow(0), std::invalid_argument);
  CHECK(client.randbits(12) < 4096);
  const std::vector<std::string> colours{"red", "green", "blue"};
  CHECK(std::set(colours.begin(), colours.end()).count(client.choice(colours)) == 1);
  const auto picked = client.sample(colours, 2);
  CHECK(picked.size() == 2);
  CHECK(picked[0] != picked[1]);
  std::vector<int> deck{1, 2, 3, 4, 5};
  client.shuffle(deck);
  CHECK(std::set(deck.begin(), deck.end()) == std::set<int>{1, 2, 3, 4, 5});
  PasswordPolicy policy;
  policy.length = 16;
  policy.min_digits = 2;
  const std::string password = client.password(policy);
  CHECK(password.size() == 16);
  CHECK(std::count_if(password.begin(), password.end(), [](char c) { return c >= '0' && c <= '9'; }) >= 2);
  CHECK(!client.passphrase(4, {}, "-").empty());
  CHECK(compare_digest(hex, hex));
  CHECK_FALSE(compare_digest(hex, client.token_hex(20)));
}

TEST_CASE("client: free functions use $RNGPOOL_SOCKET", "[client]") {
  TestDaemon daemon;
  ::setenv("RNGPOOL_SOCKET", daemon.socket_path().c_str(), 1);
  CHECK(default_client().socket_path() == daemon.socket_path());
  CHECK(token_bytes(8).size() == 8);
  CHECK(token_hex().size() == 64);
  CHECK(token_urlsafe().size() == 43);
  CHECK(randbelow(3) < 3);
  CHECK(randbits(1) < 2);
  CHECK(password().size() == 20);
  CHECK(!passphrase(2).empty());
  const std::vector<int> values{1, 2, 3};
  CHECK(choice(values) >= 1);
  CHECK(sample(values, 3).size() == 3);
  ::unsetenv("RNGPOOL_SOCKET");
}

TEST_CASE("client: status, health and ping", "[client]") {
  TestDaemon daemon;
  const Client client(daemon.socket_path());
  const StatusReport report = client.status();
  const auto has = [&](std::string_view key) {
    return std::any_of(report.begin(), report.end(), [&](const auto& entry) { return entry.first == key; });
  };
  CHECK(has("state"));
  CHECK(has("hwrng_state"));
  CHECK(has("bytes_served"));
  CHECK(client.health().state == Health::State::ok);
  CHECK(client.ping() > std::chrono::nanoseconds(0));
}

TEST_CASE("client: a 3 MiB + 1 read is streamed in pieces the daemon accepts", "[client]") {
  TestDaemon daemon;
  const Client client(daemon.socket_path());
  std::vector<std::uint8_t> big((3u << 20) + 1, 0);
  client.fill(big);
  // 4 KiB of zeros at the start of a 1 MiB piece, or at the very end, would
  // mean a piece was never written.  (Not the last byte alone: it is zero
  // once in 256 runs.)
  std::vector<std::size_t> offsets = {0, 1u << 20, 2u << 20, big.size() - 4096};
  for (std::size_t offset : offsets) {
    CAPTURE(offset);
    const auto piece = std::span(big).subspan(offset, 4096);
    CHECK(std::any_of(piece.begin(), piece.end(), [](std::uint8_t b) { return b != 0; }));
  }
}

TEST_CASE("client: a daemon with a smaller --max-request is met with smaller pieces", "[client]") {
  TestDaemon daemon({.args = {"--max-request", "65536"}});
  const Client client(daemon.socket_path());
  CHECK(client.token_bytes(300000).size() == 300000);
}

TEST_CASE("client: require-hwrng without an hwrng is refused by name", "[client]") {
  TestDaemon daemon({.hwrng = HwrngFeed::none});
  const Client client(daemon.socket_path());
  CHECK(client.token_bytes(8).size() == 8);  // without the flag the daemon serves
  const Client strict = client.with({.prediction_resistance = false, .require_hwrng = true, .nonblock = false});
  try {
    strict.token_bytes(8);
    FAIL("require_hwrng succeeded without an hwrng");
  } catch (const Error& error) {
    CHECK(error.kind() == ErrorKind::daemon);
    CHECK(error.status_name() == "HWRNG_UNAVAILABLE");
    CHECK_THAT(error.what(), Catch::Contains("HWRNG_UNAVAILABLE"));
  }
  CHECK(client.token_bytes(8).size() == 8);  // the refusal did not break the shared connection
  ClientOptions options;
  options.socket_path = daemon.socket_path();
  options.flags.require_hwrng = true;
  CHECK_THROWS_AS(Client(options).token_hex(4), Error);
}

TEST_CASE("client: prediction resistance is served", "[client]") {
  TestDaemon daemon;
  const Client client(daemon.socket_path());
  CHECK(client.with({.prediction_resistance = true, .require_hwrng = false, .nonblock = false})
            .token_bytes(64)
            .size() == 64);
}

TEST_CASE("client: randbelow on daemon bytes is uniform (chi-square, 10^5 draws)", "[client]") {
  TestDaemon daemon;
  const Client client(daemon.socket_path());

  SECTION("n = 7") {
    const Client replay = over_daemon_bytes(client);
    std::vector<std::uint64_t> counts(7);
    for (int i = 0; i < 100000; ++i) ++counts[replay.randbelow(7)];
    CHECK(chi_square(counts) < kChi2Crit6);
  }
  SECTION("n = 2^63 + 1, halves and parity") {
    const std::uint64_t n = (std::uint64_t{1} << 63) + 1;
    const Client replay = over_daemon_bytes(client);
    std::vector<std::uint64_t> halves(2), parity(2);
    for (int i = 0; i < 100000; ++i) {
      const std::uint64_t value = replay.randbelow(n);
      REQUIRE(value < n);
      ++halves[value > n / 2];
      ++parity[value & 1];
    }
    CHECK(chi_square(halves) < kChi2Crit1);  // each bucket holds 1/2 of [0, n) to within 2^-63
    CHECK(chi_square(parity) < kChi2Crit1);
  }
  SECTION("shuffle of 3 over the 6 permutations") {
    const Client replay = over_daemon_bytes(client);
    std::map<std::array<int, 3>, std::uint64_t> counts;
    for (int i = 0; i < 100000; ++i) {
      std::array<int, 3> items{0, 1, 2};
      replay.shuffle(items);
      ++counts[items];
    }
    REQUIRE(counts.size() == 6);
    std::vector<std::uint64_t> observed;
    for (const auto& [permutation, count] : counts) observed.push_back(count);
    CHECK(chi_square(observed) < kChi2Crit5);
  }
}

TEST_CASE("client: password policy holds over 10^4 passwords from the daemon", "[client]") {
  TestDaemon daemon;
  const Client client(daemon.socket_path());
  PasswordPolicy policy;
  policy.length = 10;
  policy.min_upper = 1;
  policy.min_lower = 1;
  policy.min_digits = 2;
  policy.min_symbols = 1;
  const auto count = [](const std::string& text, std::string_view set) {
    return std::count_if(text.begin(), text.end(), [&](char c) { return set.find(c) != set.npos; });
  };
  for (int i = 0; i < 10000; ++i) {
    const std::string password = client.password(policy);
    REQUIRE(password.size() == 10);
    REQUIRE(count(password, kUppercase) >= 1);
    REQUIRE(count(password, kLowercase) >= 1);
    REQUIRE(count(password, kDigits) >= 2);
    REQUIRE(count(password, kSymbols) >= 1);
  }
}
