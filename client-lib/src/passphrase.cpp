// Passphrases: words drawn uniformly from a word list.
//
// The strength of a passphrase is words * log2(list size), which only holds
// if every word is distinct and equally likely.  Word lists repeat words in
// other spellings ("Apple", "apple's"), so we keep lowercase ASCII words only
// and each once.
#include "rngpool/client.hpp"

#include "draws.hpp"
#include "error_text.hpp"

#include <algorithm>
#include <cerrno>
#include <fstream>

namespace rngpool {

namespace {

bool plain_word(std::string_view word) {
  return !word.empty() &&
         std::all_of(word.begin(), word.end(), [](char c) { return c >= 'a' && c <= 'z'; });
}

std::vector<std::string> load_words(const std::string& path) {
  std::ifstream file(path);
  if (!file) {
    const int err = errno;
    throw std::runtime_error("rngpool: cannot read word list " + path + ": " +
                             detail::errno_text(err) +
                             " \u2014 install one (Debian: wamerican) or name another");
  }
  std::vector<std::string> words;
  for (std::string line; std::getline(file, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (plain_word(line)) words.push_back(std::move(line));
  }
  std::sort(words.begin(), words.end());
  words.erase(std::unique(words.begin(), words.end()), words.end());
  if (words.size() < 2) {
    throw std::runtime_error("rngpool: word list " + path + " holds " + std::to_string(words.size()) +
                             " lowercase ASCII words; a passphrase needs a real list");
  }
  return words;
}

}  // namespace

std::string Client::passphrase(std::size_t words, const std::string& wordlist,
                               std::string_view separator) const {
  if (words == 0) throw std::invalid_argument("rngpool: a passphrase needs at least one word");
  const std::vector<std::string> list = load_words(wordlist.empty() ? kDefaultWordlist : wordlist);
  detail::Draws draws(*this, words);
  std::string phrase;
  for (std::size_t i = 0; i < words; ++i) {
    if (i > 0) phrase += separator;
    phrase += list[draws.below(list.size())];
  }
  return phrase;
}

}  // namespace rngpool
