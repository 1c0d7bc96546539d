// password: every draw meets the policy, and passwords that meet it are equally likely.
#include "sources.hpp"

#include <catch2/catch.hpp>

#include <map>

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

TEST_CASE("password is uniform over the passwords that meet the policy (rejection, not patching)") {
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

  PasswordPolicy rare;  // 19 digits of 20 from 94 characters: about 1e-17
  rare.min_digits = 19;
  CHECK_THROWS_WITH(client.password(rare), Catch::Contains("too strict"));

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
