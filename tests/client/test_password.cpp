// password: every draw meets the policy, and passwords that meet it are equally likely.
#include "sources.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <set>

using rngpool::Client;
using rngpool::PasswordPolicy;
using namespace rngpool::test;

namespace {

std::size_t count_if_in(const std::string& text, std::string_view set) {
  return static_cast<std::size_t>(
      std::count_if(text.begin(), text.end(), [&](char c) { return set.find(c) != std::string_view::npos; }));
}

}  // namespace

TEST_CASE("password meets its policy in 10^4 draws") {
  const Client client = Client::from_source(seeded_source(201));
  PasswordPolicy policy;
  policy.length = 12;
  policy.min_upper = 2;
  policy.min_lower = 2;
  policy.min_digits = 3;
  policy.min_symbols = 1;
  for (int i = 0; i < 10000; ++i) {
    const std::string password = client.password(policy);
    REQUIRE(password.size() == 12);
    CHECK(count_if_in(password, rngpool::kUppercase) >= 2);
    CHECK(count_if_in(password, rngpool::kLowercase) >= 2);
    CHECK(count_if_in(password, rngpool::kDigits) >= 3);
    CHECK(count_if_in(password, rngpool::kSymbols) >= 1);
  }
}

TEST_CASE("password draws only from the alphabet and defaults to 20 printable characters") {
  const Client client = Client::from_source(seeded_source(202));
  CHECK(client.password().size() == 20);
  PasswordPolicy policy;
  policy.alphabet = "ab";
  policy.length = 64;
  const std::string password = client.password(policy);
  CHECK(password.find_first_not_of("ab") == std::string::npos);
}

TEST_CASE("password is uniform over the passwords that meet the policy (exact, not patching)") {
  // Alphabet "ab0", length 2, at least one digit: the acceptable passwords
  // are a0 b0 0a 0b 00, each with probability 1/5.  Patching a failed draw
  // (overwrite a random position with a digit) would make 00 rarer.
  const Client client = Client::from_source(seeded_source(203));
  PasswordPolicy policy;
  policy.alphabet = "ab0";
  policy.length = 2;
  policy.min_digits = 1;
  std::map<std::string, std::uint64_t> counts;
  for (int i = 0; i < 10000; ++i) ++counts[client.password(policy)];
  REQUIRE(counts.size() == 5);
  std::vector<std::uint64_t> observed;
  for (const auto& [password, count] : counts) observed.push_back(count);
  CHECK(chi_square(observed, uniform(5)) < kChi2Crit4);
}

TEST_CASE("the uniformity test catches a patching generator") {
  std::mt19937_64 engine(204);
  std::map<std::string, std::uint64_t> counts;
  for (int i = 0; i < 10000; ++i) {
    std::string password{"ab0"[engine() % 3], "ab0"[engine() % 3]};
    if (password.find('0') == std::string::npos) password[engine() % 2] = '0';
    ++counts[password];
  }
  std::vector<std::uint64_t> observed;
  for (const auto& [password, count] : counts) observed.push_back(count);
  CHECK(chi_square(observed, uniform(5)) > kChi2Crit4);
}

TEST_CASE("impossible or absurd policies are refused with the reason") {
  const Client client = Client::from_source(seeded_source(205));
  PasswordPolicy too_short;
  too_short.length = 3;
  too_short.min_digits = 2;
  too_short.min_upper = 2;
  CHECK_THROWS_WITH(client.password(too_short), Catch::Contains("length is 3"));

  PasswordPolicy no_digits;
  no_digits.alphabet = "abc";
  no_digits.min_digits = 1;
  CHECK_THROWS_WITH(client.password(no_digits), Catch::Contains("digits but the alphabet has none"));

  PasswordPolicy overflowing;  // minimums whose sum wraps a size_t
  overflowing.min_digits = SIZE_MAX;
  overflowing.min_upper = 2;
  CHECK_THROWS_WITH(client.password(overflowing), Catch::Contains("but the length is 20"));

  PasswordPolicy too_long;  // two minimums: the exact sampler's cost is bounded by the length
  too_long.length = 4097;
  too_long.min_digits = 1;
  too_long.min_upper = 1;
  CHECK_THROWS_WITH(client.password(too_long), Catch::Contains("at most 4096 characters long, not 4097"));

  PasswordPolicy empty;
  empty.alphabet = "";
  CHECK_THROWS_AS(client.password(empty), std::invalid_argument);
  PasswordPolicy non_ascii;
  non_ascii.alphabet = "ab\xc3\xa9";
  CHECK_THROWS_AS(client.password(non_ascii), std::invalid_argument);
  PasswordPolicy zero;
  zero.length = 0;
  CHECK_THROWS_AS(client.password(zero), std::invalid_argument);
}

TEST_CASE("a repeated alphabet character is not more likely") {
  const Client client = Client::from_source(seeded_source(206));
  PasswordPolicy policy;
  policy.alphabet = "aaab";
  policy.length = 1;
  std::vector<std::uint64_t> counts(2);
  for (int i = 0; i < 10000; ++i) ++counts[client.password(policy) == "a" ? 0 : 1];
  CHECK(chi_square(counts, uniform(2)) < kChi2Crit1);
}

// ---------------------------------------------------------------------------
// Strict policies (issue 9, item 6)
//
// Rejection sampling spun forever on policies that few passwords meet; the
// sampler now draws the class composition with its exact weight, then the
// characters, then shuffles.  These cases check that it is bounded, and that
// it is exactly uniform where the naive "place the required characters, fill
// the rest from the whole alphabet, shuffle" is not.
// ---------------------------------------------------------------------------

namespace {

// A source that counts the requests made of it.
struct CountingSource {
  std::shared_ptr<std::size_t> requests = std::make_shared<std::size_t>(0);
  rngpool::ByteSource source(std::uint64_t seed) const {
    return [inner = seeded_source(seed), requests = requests](std::span<std::uint8_t> out, rngpool::RequestFlags f) {
      ++*requests;
      inner(out, f);
    };
  }
};

// Every string of `length` characters of `alphabet`, for brute-force counts.
std::vector<std::string> all_strings(const std::string& alphabet, std::size_t length) {
  std::vector<std::string> out{""};
  for (std::size_t i = 0; i < length; ++i) {
    std::vector<std::string> longer;
    for (const auto& prefix : out) {
      for (char c : alphabet) longer.push_back(prefix + c);
    }
    out.swap(longer);
  }
  return out;
}

bool meets(const std::string& password, const PasswordPolicy& policy) {
  return count_if_in(password, rngpool::kUppercase) >= policy.min_upper &&
         count_if_in(password, rngpool::kLowercase) >= policy.min_lower &&
         count_if_in(password, rngpool::kDigits) >= policy.min_digits &&
         count_if_in(password, rngpool::kSymbols) >= policy.min_symbols;
}

// Draws `draws` passwords and returns the chi-square statistic against the
// uniform distribution over every password that meets the policy, found by
// brute force.  `set_size` must match it (so the critical value is right).
double uniformity(const PasswordPolicy& policy, std::size_t set_size, int draws, std::uint64_t seed) {
  std::map<std::string, std::uint64_t> counts;
  for (const auto& s : all_strings(policy.alphabet, policy.length)) {
    if (meets(s, policy)) counts[s] = 0;
  }
  REQUIRE(counts.size() == set_size);
  const Client client = Client::from_source(seeded_source(seed));
  for (int i = 0; i < draws; ++i) {
    const auto it = counts.find(client.password(policy));
    REQUIRE(it != counts.end());
    ++it->second;
  }
  std::vector<std::uint64_t> observed;
  for (const auto& [password, count] : counts) observed.push_back(count);
  return chi_square(observed, uniform(set_size));
}

}  // namespace

TEST_CASE("password: the issue's 303-character policy finishes at once, in few requests") {
  CountingSource counting;
  const Client client = Client::from_source(counting.source(207));
  PasswordPolicy policy;
  policy.length = 303;
  policy.min_upper = 101;
  policy.min_lower = 101;
  policy.min_digits = 101;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 10; ++i) {
    const std::string password = client.password(policy);
    REQUIRE(password.size() == 303);
    CHECK(meets(password, policy));
  }
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
  // Per password: the characters' batches and the shuffle's.
  CHECK(*counting.requests <= 10 * 4);
}

TEST_CASE("password: policies met by a sliver of all passwords are sampled, not refused") {
  const Client client = Client::from_source(seeded_source(208));
  PasswordPolicy rare;  // 19 digits of 20 from 94 characters: about 1e-17 of all passwords
  rare.min_digits = 19;
  CHECK(count_if_in(client.password(rare), rngpool::kDigits) >= 19);
  PasswordPolicy all_digits;  // (10/94)^4096: underflows a double
  all_digits.length = 4096;
  all_digits.min_digits = 4096;
  CHECK(count_if_in(client.password(all_digits), rngpool::kDigits) == 4096);
  PasswordPolicy widest;  // the longest policy with several minimums
  widest.length = 4096;
  widest.min_upper = 1000;
  widest.min_lower = 1000;
  widest.min_digits = 1000;
  widest.min_symbols = 10;
  const auto start = std::chrono::steady_clock::now();
  CHECK(meets(client.password(widest), widest));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
  PasswordPolicy long_free;  // one minimum: no length bound
  long_free.length = 100000;
  long_free.min_digits = 3;
  CHECK(count_if_in(client.password(long_free), rngpool::kDigits) >= 3);
}

TEST_CASE("password: exactly uniform where placing the required characters first is not") {
  // "ab0", 3 characters, at least 2 digits: 00a 00b 0a0 0b0 a00 b00 000.
  // Place-then-fill makes 000 one draw in 3 instead of one in 7.
  PasswordPolicy two_digits;
  two_digits.alphabet = "ab0";
  two_digits.length = 3;
  two_digits.min_digits = 2;
  CHECK(uniformity(two_digits, 7, 14000, 209) < kChi2Crit6);

  // Two minimums and a free class: "aB1", 3 characters, at least one B and
  // one 1: the 12 strings of compositions (a, B, 1) = (1,1,1), (0,2,1), (0,1,2).
  PasswordPolicy two_classes;
  two_classes.alphabet = "aB1";
  two_classes.length = 3;
  two_classes.min_upper = 1;
  two_classes.min_digits = 1;
  CHECK(uniformity(two_classes, 12, 24000, 210) < kChi2Crit11);
}

TEST_CASE("password: the class composition has its exact weight in the policy's set") {
  // "aB1", 6 characters, at least 2 B and 2 digits: the compositions (B, 1)
  // are (2,2) (2,3) (2,4) (3,2) (3,3) (4,2), weighted by how many of the 3^6
  // strings have them, counted by brute force.
  PasswordPolicy policy;
  policy.alphabet = "aB1";
  policy.length = 6;
  policy.min_upper = 2;
  policy.min_digits = 2;
  std::map<std::pair<std::size_t, std::size_t>, double> weight;
  std::size_t total = 0;
  for (const auto& s : all_strings(policy.alphabet, policy.length)) {
    if (!meets(s, policy)) continue;
    ++weight[{count_if_in(s, "B"), count_if_in(s, "1")}];
    ++total;
  }
  REQUIRE(weight.size() == 6);
  std::map<std::pair<std::size_t, std::size_t>, std::uint64_t> counts;
  const Client client = Client::from_source(seeded_source(211));
  for (int i = 0; i < 20000; ++i) {
    const std::string password = client.password(policy);
    ++counts[{count_if_in(password, "B"), count_if_in(password, "1")}];
  }
  std::vector<std::uint64_t> observed;
  std::vector<double> expected;
  for (const auto& [composition, w] : weight) {
    observed.push_back(counts[composition]);
    expected.push_back(w / static_cast<double>(total));
  }
  CHECK(counts.size() == 6);
  CHECK(chi_square(observed, expected) < kChi2Crit5);
}

TEST_CASE("the uniformity test catches place-then-fill") {
  // The naive construction for "ab0", length 3, at least 2 digits.
  std::mt19937_64 engine(212);
  std::map<std::string, std::uint64_t> counts;
  for (int i = 0; i < 14000; ++i) {
    std::string password{'0', '0', "ab0"[engine() % 3]};
    std::shuffle(password.begin(), password.end(), engine);
    ++counts[password];
  }
  std::vector<std::uint64_t> observed;
  for (const auto& [password, count] : counts) observed.push_back(count);
  REQUIRE(observed.size() == 7);
  CHECK(chi_square(observed, uniform(7)) > kChi2Crit6);
}
