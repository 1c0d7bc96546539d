// Passwords that meet a policy, uniformly.
//
// "At least two digits" is met by drawing whole passwords from the alphabet
// and rejecting those that fall short, so every acceptable password stays
// exactly as likely as every other.  Patching a failed draw (overwriting a
// random position with a digit) would instead favour passwords that look
// patched.  Policies that cannot be met, or only by a sliver of all
// passwords, are refused up front with the reason, instead of spinning.
#include "rngpool/client.hpp"

#include "draws.hpp"

#include <algorithm>
#include <array>
#include <sstream>

namespace rngpool {

namespace {

enum Class { upper, lower, digit, symbol, kClasses };

Class class_of(char c) {
  if (c >= 'A' && c <= 'Z') return upper;
  if (c >= 'a' && c <= 'z') return lower;
  if (c >= '0' && c <= '9') return digit;
  return symbol;
}

const char* class_name(int c) {
  static constexpr std::array<const char*, kClasses> names{"uppercase letters", "lowercase letters",
                                                          "digits", "symbols"};
  return names[static_cast<std::size_t>(c)];
}

using Counts = std::array<std::size_t, kClasses>;

Counts minimums(const PasswordPolicy& policy) {
  return {policy.min_upper, policy.min_lower, policy.min_digits, policy.min_symbols};
}

// ---------------------------------------------------------------------------
// The alphabet
//
// Printable ASCII only: a byte of a multi-byte UTF-8 character drawn alone is
// not a character.  A repeated character is kept once, or it would be more
// likely than the others.
// ---------------------------------------------------------------------------

std::string distinct_alphabet(const std::string& alphabet) {
  std::string distinct;
  for (char c : alphabet) {
    if (c < 0x20 || c > 0x7e) {
      throw std::invalid_argument("rngpool: password alphabet must be printable ASCII");
    }
    if (distinct.find(c) == std::string::npos) distinct.push_back(c);
  }
  if (distinct.empty()) throw std::invalid_argument("rngpool: password alphabet is empty");
  return distinct;
}

Counts class_sizes(const std::string& alphabet) {
  Counts sizes{};
  for (char c : alphabet) ++sizes[class_of(c)];
  return sizes;
}

// ---------------------------------------------------------------------------
// Is the policy satisfiable, and not absurdly rare?
//
// The acceptance probability is computed exactly (in doubles) by dynamic
// programming over positions, counting each class up to its minimum.  Below
// kMinAcceptance we refuse: the caller asked for something that rejection
// would take millions of draws to find.
// ---------------------------------------------------------------------------

constexpr double kMinAcceptance = 1e-4;
constexpr std::size_t kMaxStates = 1u << 20;  // beyond this, skip the estimate

void check_possible(const PasswordPolicy& policy, const Counts& sizes) {
  const Counts need = minimums(policy);
  std::size_t total = 0;
  for (int c = 0; c < kClasses; ++c) {
    if (need[c] > 0 && sizes[c] == 0) {
      throw std::invalid_argument("rngpool: password policy asks for " + std::to_string(need[c]) +
                                  " " + class_name(c) + " but the alphabet has none");
    }
    total += need[c];
  }
  if (total > policy.length) {
    throw std::invalid_argument("rngpool: password policy needs at least " + std::to_string(total) +
                                " characters of required classes but the length is " +
                                std::to_string(policy.length));
  }
}

double acceptance(const PasswordPolicy& policy, const Counts& sizes, std::size_t alphabet_size) {
  const Counts need = minimums(policy);
  Counts dims{};
  std::size_t states = 1;
  for (int c = 0; c < kClasses; ++c) {
    dims[c] = need[c] + 1;
    states *= dims[c];
    if (states > kMaxStates) return 1.0;  // too large to estimate; rejection still works
  }
  const auto index = [&](const Counts& k) {
    return ((k[0] * dims[1] + k[1]) * dims[2] + k[2]) * dims[3] + k[3];
  };
  std::vector<double> p(states, 0.0), next(states);
  p[0] = 1.0;
  for (std::size_t position = 0; position < policy.length; ++position) {
    std::fill(next.begin(), next.end(), 0.0);
    for (std::size_t s = 0; s < states; ++s) {
      if (p[s] == 0.0) continue;
      Counts k{s / (dims[1] * dims[2] * dims[3]), s / (dims[2] * dims[3]) % dims[1],
               s / dims[3] % dims[2], s % dims[3]};
      for (int c = 0; c < kClasses; ++c) {
        Counts after = k;
        after[c] = std::min(after[c] + 1, need[c]);
        next[index(after)] += p[s] * static_cast<double>(sizes[c]) / static_cast<double>(alphabet_size);
      }
    }
    p.swap(next);
  }
  return p[index(need)];
}

bool meets(const std::string& password, const Counts& need) {
  Counts have{};
  for (char c : password) ++have[class_of(c)];
  for (int c = 0; c < kClasses; ++c) {
    if (have[c] < need[c]) return false;
  }
  return true;
}

}  // namespace

std::string Client::password(const PasswordPolicy& policy) const {
  if (policy.length == 0) throw std::invalid_argument("rngpool: password length must be positive");
  const std::string alphabet = distinct_alphabet(policy.alphabet);
  const Counts sizes = class_sizes(alphabet);
  check_possible(policy, sizes);
  const double p = acceptance(policy, sizes, alphabet.size());
  if (p < kMinAcceptance) {
    std::ostringstream message;
    message << "rngpool: password policy too strict: only a fraction " << p
            << " of passwords of length " << policy.length
            << " meet it; lengthen the password, widen the alphabet or lower the minimums";
    throw std::invalid_argument(message.str());
  }
  const Counts need = minimums(policy);
  detail::Draws draws(*this, policy.length);
  std::string candidate(policy.length, '\0');
  for (;;) {
    for (char& c : candidate) c = alphabet[draws.below(alphabet.size())];
    if (meets(candidate, need)) return candidate;
  }
}

}  // namespace rngpool
