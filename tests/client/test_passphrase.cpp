// passphrase: words from a cleaned word list.
#include "sources.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <unistd.h>

using rngpool::Client;
using namespace rngpool::test;

namespace {

struct WordFile {
  std::filesystem::path path;
  explicit WordFile(const std::string& content)
      : path(std::filesystem::temp_directory_path() /
             ("rngpool-words-" + std::to_string(::getpid()) + "-" + std::to_string(counter++))) {
    std::ofstream(path) << content;
  }
  ~WordFile() { std::filesystem::remove(path); }
  static inline int counter = 0;
};

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  for (std::string part; std::getline(stream, part, separator);) parts.push_back(part);
  return parts;
}

}  // namespace

TEST_CASE("passphrase keeps lowercase ASCII words, once each") {
  const WordFile words("apple\nApple\napple's\napple\r\nbanana\ncafé\n\ncherry\n");
  const Client client = Client::from_source(seeded_source(301));
  std::set<std::string> seen;
  for (int i = 0; i < 300; ++i) {
    for (const auto& word : split(client.passphrase(4, words.path, "-"), '-')) seen.insert(word);
  }
  CHECK(seen == std::set<std::string>{"apple", "banana", "cherry"});
}

TEST_CASE("passphrase words are uniform over the cleaned list") {
  // "apple" appears three times in the file; it must not be three times as likely.
  const WordFile words("apple\napple\napple\nbanana\ncherry\n");
  const Client client = Client::from_source(seeded_source(302));
  std::map<std::string, std::uint64_t> counts;
  for (int i = 0; i < 3000; ++i) {
    for (const auto& word : split(client.passphrase(5, words.path, " "), ' ')) ++counts[word];
  }
  std::vector<std::uint64_t> observed;
  for (const auto& [word, count] : counts) observed.push_back(count);
  REQUIRE(observed.size() == 3);
  CHECK(chi_square(observed, uniform(3)) < kChi2Crit2);
}

TEST_CASE("passphrase defaults: 6 words from /usr/share/dict/words, space-separated") {
  REQUIRE(std::filesystem::exists(rngpool::kDefaultWordlist));  // wamerican is a build dependency
  const Client client = Client::from_source(seeded_source(303));
  const auto words = split(client.passphrase(), ' ');
  CHECK(words.size() == 6);
  for (const auto& word : words) CHECK(word.find_first_not_of("abcdefghijklmnopqrstuvwxyz") == std::string::npos);
}

TEST_CASE("passphrase errors say what to do") {
  const Client client = Client::from_source(seeded_source(304));
  CHECK_THROWS_WITH(client.passphrase(3, "/nonexistent/words"),
                    Catch::Contains("cannot read word list /nonexistent/words") &&
                        Catch::Contains("No such file or directory"));
  const WordFile capitals("Alpha\nBeta\n");
  CHECK_THROWS_WITH(client.passphrase(3, capitals.path), Catch::Contains("holds 0 lowercase ASCII words"));
  CHECK_THROWS_AS(client.passphrase(0), std::invalid_argument);
}
