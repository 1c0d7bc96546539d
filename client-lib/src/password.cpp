// Passwords that meet a policy, uniformly.
//
// "At least two digits" must not be met by patching a failed draw
// (overwriting a random position with a digit): that favours passwords that
// look patched.  Nor by drawing whole passwords and rejecting those that fall
// short: that is uniform but unbounded, and a policy such as 101 upper, 101
// lower and 101 digits in 303 characters is met by one draw in about 1e140.
// Every satisfiable policy is instead sampled exactly, in bounded time:
//
//  1. the class composition (how many characters of each class) is drawn
//     with its exact weight in the policy's set: L!/(k_1!...k_r!) * s_1^k_1
//     ... s_r^k_r, the number of passwords with that composition;
//  2. each character is drawn uniformly from its class;
//  3. the characters are shuffled (Fisher-Yates, uniform over permutations).
//
// Why that is uniform over the set: for a password x of composition k, the
// shuffle maps exactly k_1!...k_r! of the L! orders of step 2's sequence onto
// x, and step 2 makes that sequence with probability 1/(s_1^k_1...s_r^k_r),
// so P(x | k) = k_1!...k_r! / (L! s_1^k_1...s_r^k_r); times step 1's weight
// that is 1/|set| for every x.  Placing the required characters first and
// drawing the rest from the whole alphabet would not be: it over-weights
// compositions near the minimums.  Classes without a minimum impose nothing,
// so they form one "free" class whose characters are drawn from their union.
//
// The weights are computed in doubles: a relative error near 1e-12, which no
// test could observe, and far below what rejection sampling's own draws
// would notice.  Policies that cannot be met are refused with the reason.
#include "rngpool/client.hpp"

#include "draws.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

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
// Is the policy satisfiable?
//
// Sampling costs about (r - 1) * (E + 1)^2 weight evaluations for r classes
// with a minimum and E = length - the sum of the minimums, so with two or more
// minimums the length is bounded; passwords longer than that are not
// passwords (token_hex and friends make long strings).
// ---------------------------------------------------------------------------

constexpr std::size_t kMaxConstrainedLength = 4096;

void check_possible(const PasswordPolicy& policy, const Counts& sizes) {
  const Counts need = minimums(policy);
  std::size_t total = 0;
  int constrained = 0;
  for (int c = 0; c < kClasses; ++c) {
    if (need[c] > 0 && sizes[c] == 0) {
      throw std::invalid_argument("rngpool: password policy asks for " + std::to_string(need[c]) +
                                  " " + class_name(c) + " but the alphabet has none");
    }
    if (need[c] > policy.length) {  // also keeps the sum below from wrapping
      total = need[c];
      break;
    }
    total += need[c];
    constrained += need[c] > 0 ? 1 : 0;
  }
  if (total > policy.length) {
    throw std::invalid_argument("rngpool: password policy needs at least " + std::to_string(total) +
                                " characters of required classes but the length is " +
                                std::to_string(policy.length));
  }
  if (constrained >= 2 && policy.length > kMaxConstrainedLength) {
    throw std::invalid_argument("rngpool: a password with minimums for two or more classes can be at most " +
                                std::to_string(kMaxConstrainedLength) + " characters long, not " +
                                std::to_string(policy.length));
  }
}

// ---------------------------------------------------------------------------
// The classes to sample
//
// Each class with a minimum is one group; the classes without form the free
// group (no minimum; it may be empty).
// ---------------------------------------------------------------------------

struct Group {
  std::string characters;
  std::size_t need = 0;
};

std::vector<Group> groups_of(const std::string& alphabet, const Counts& need) {
  std::vector<Group> groups;
  std::array<std::size_t, kClasses> group_of{};
  for (int c = 0; c < kClasses; ++c) {
    if (need[c] == 0) continue;
    group_of[c] = groups.size();
    groups.push_back({{}, need[c]});
  }
  const std::size_t free = groups.size();
  groups.push_back({});
  for (char ch : alphabet) {
    const int c = class_of(ch);
    groups[need[c] > 0 ? group_of[c] : free].characters.push_back(ch);
  }
  return groups;
}

// ---------------------------------------------------------------------------
// Step 1: the composition
//
// Q_j(m) = the probability that a uniform string of m characters over the
// union of groups j.. meets their minimums.  Then
//   Q_j(m) = sum over k >= need_j of Binomial(m, k, p_j) * Q_{j+1}(m - k),
// p_j = |group j| / |groups j..|, and the free group's Q is 1 (0 for m > 0
// when it is empty).  k_j is drawn with weight Binomial(m, k, p_j) *
// Q_{j+1}(m - k): the exact conditional law of group j's count given that
// the whole string meets the policy.  Everything is kept in logarithms: a
// weight such as (10/94)^4096 underflows a double.
// ---------------------------------------------------------------------------

constexpr double kNever = -std::numeric_limits<double>::infinity();  // log 0

// The weights, scaled so the largest is 1 (their logarithms' maximum removed).
std::vector<double> scaled(std::vector<double> log_weights) {
  const double top = *std::max_element(log_weights.begin(), log_weights.end());
  for (double& w : log_weights) w = top == kNever ? 0.0 : std::exp(w - top);
  return log_weights;
}

double log_sum(const std::vector<double>& log_weights) {
  const double top = *std::max_element(log_weights.begin(), log_weights.end());
  if (top == kNever) return kNever;
  double sum = 0;
  for (double w : log_weights) sum += std::exp(w - top);
  return top + std::log(sum);
}

class Composition {
 public:
  Composition(const std::vector<Group>& groups, std::size_t length);
  std::vector<std::size_t> draw(detail::Draws& draws) const;

 private:
  // log weight of k_j = k for k = need_j, need_j + 1, ... with m characters left
  std::vector<double> log_weights(std::size_t j, std::size_t m) const;
  double log_q(std::size_t j, std::size_t m) const;

  std::size_t length_;
  std::vector<std::size_t> need_;         // per group, the free group last
  std::vector<std::size_t> need_after_;   // sum of the minimums of groups j..
  std::vector<double> log_p_, log_1mp_;   // log p_j, log(1 - p_j)
  std::vector<std::vector<double>> log_q_;  // [j][m - need_after_[j]], groups 1..r-1
  std::vector<double> log_factorial_;
  bool free_empty_;
};

Composition::Composition(const std::vector<Group>& groups, std::size_t length)
    : length_(length), need_(groups.size()), need_after_(groups.size() + 1, 0), log_p_(groups.size()),
      log_1mp_(groups.size()), log_q_(groups.size()), free_empty_(groups.back().characters.empty()) {
  std::size_t size_after = 0;
  for (std::size_t j = groups.size(); j-- > 0;) {
    need_[j] = groups[j].need;
    need_after_[j] = need_after_[j + 1] + groups[j].need;
    const std::size_t size = groups[j].characters.size();
    size_after += size;
    const double p = size_after == 0 ? 0.0 : static_cast<double>(size) / static_cast<double>(size_after);
    log_p_[j] = std::log(p);
    log_1mp_[j] = std::log1p(-p);
  }
  if (groups.size() == 1) return;  // no minimums: nothing to weigh
  log_factorial_.assign(length + 1, 0.0);
  for (std::size_t m = 1; m <= length; ++m) {
    log_factorial_[m] = log_factorial_[m - 1] + std::log(static_cast<double>(m));
  }
  // From the last constrained group back to group 1: group 0 only ever has
  // the whole length left.
  const std::size_t excess = length - need_after_[0];
  for (std::size_t j = groups.size() - 1; j-- > 1;) {
    log_q_[j].resize(excess + 1);
    for (std::size_t e = 0; e <= excess; ++e) log_q_[j][e] = log_sum(log_weights(j, need_after_[j] + e));
  }
}

double Composition::log_q(std::size_t j, std::size_t m) const {
  if (j + 1 == need_.size()) return (m == 0 || !free_empty_) ? 0.0 : kNever;  // the free group
  return log_q_[j][m - need_after_[j]];
}

std::vector<double> Composition::log_weights(std::size_t j, std::size_t m) const {
  std::vector<double> out;
  for (std::size_t k = need_[j]; k + need_after_[j + 1] <= m; ++k) {
    const double rest = log_q(j + 1, m - k);
    // 0 * log 0 is 0: all m characters from a group that is all that is left.
    const double log_binomial = log_factorial_[m] - log_factorial_[k] - log_factorial_[m - k] +
                                static_cast<double>(k) * log_p_[j] +
                                (k == m ? 0.0 : static_cast<double>(m - k) * log_1mp_[j]);
    out.push_back(rest == kNever ? kNever : log_binomial + rest);
  }
  return out;
}

// A uniform double in [0, 1) from the top 53 bits of a draw.
double unit(detail::Draws& draws) { return static_cast<double>(draws.next_u64() >> 11) * 0x1p-53; }

// Index i with probability weights[i] / sum (inverse transform).
std::size_t pick(const std::vector<double>& weights, detail::Draws& draws) {
  double total = 0;
  for (double w : weights) total += w;
  const double target = unit(draws) * total;
  double cumulative = 0;
  std::size_t chosen = 0;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    if (weights[i] == 0.0) continue;
    chosen = i;  // the last possible one, should rounding leave target beyond the sum
    cumulative += weights[i];
    if (target < cumulative) break;
  }
  return chosen;
}

std::vector<std::size_t> Composition::draw(detail::Draws& draws) const {
  std::vector<std::size_t> counts(need_.size(), 0);
  std::size_t m = length_;
  for (std::size_t j = 0; j + 1 < need_.size(); ++j) {
    counts[j] = need_[j] + pick(scaled(log_weights(j, m)), draws);
    m -= counts[j];
  }
  counts.back() = m;  // the free group takes the rest
  return counts;
}

}  // namespace

// ---------------------------------------------------------------------------
// Steps 2 and 3: the characters, then the shuffle
// ---------------------------------------------------------------------------

std::string Client::password(const PasswordPolicy& policy) const {
  if (policy.length == 0) throw std::invalid_argument("rngpool: password length must be positive");
  const std::string alphabet = distinct_alphabet(policy.alphabet);
  const Counts sizes = class_sizes(alphabet);
  check_possible(policy, sizes);
  const std::vector<Group> groups = groups_of(alphabet, minimums(policy));
  const Composition composition(groups, policy.length);
  std::string password;
  password.reserve(policy.length);
  {
    detail::Draws draws(*this, policy.length + groups.size());
    const auto counts = composition.draw(draws);
    for (std::size_t j = 0; j < groups.size(); ++j) {
      const std::string& characters = groups[j].characters;
      for (std::size_t i = 0; i < counts[j]; ++i) password.push_back(characters[draws.below(characters.size())]);
    }
  }
  shuffle(password);
  return password;
}

}  // namespace rngpool
