// What the metrics tests share: where the daemon's metrics listener is, and
// the exposition text read back into samples a test can sum and compare.
#pragma once

#include "rngpool/test/support.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace rngpool::test {

// The port from the daemon's "metrics at http://ADDR:PORT/metrics" line.
// The daemon may accept on its Unix socket (which is what makes a
// TestDaemon ready) before that line reaches its log, so it is waited for.
inline std::uint16_t metrics_port(const TestDaemon& daemon) {
  static const std::regex line(R"(metrics at http://[^ ]*:([0-9]+)/metrics)");
  std::smatch match;
  std::string log;
  const bool logged = eventually([&] {
    log = daemon.log();
    return std::regex_search(log, match, line);
  });
  INFO(log);
  REQUIRE(logged);
  return static_cast<std::uint16_t>(std::stoul(match[1]));
}

inline std::vector<std::string> metrics_args(std::vector<std::string> more = {}) {
  more.insert(more.begin(), {"--metrics-listen", "127.0.0.1:0"});
  return more;
}

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value;
};

// Samples of a 0.0.4 exposition (comments skipped); label values without
// escapes, which is all rngpoold writes but for build_info.
inline std::vector<Sample> parse_exposition(const std::string& text) {
  static const std::regex sample(R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? (\S+)$)");
  static const std::regex label(R"(([a-zA-Z_][a-zA-Z0-9_]*)=\"([^\"]*)\")");
  std::vector<Sample> samples;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (line.empty() || line[0] == '#' || !std::regex_match(line, m, sample))
      continue;
    Sample s{m[1], {}, std::stod(m[4])};
    const std::string labels = m[3];
    for (auto it = std::sregex_iterator(labels.begin(), labels.end(), label); it != std::sregex_iterator(); ++it)
      s.labels[(*it)[1]] = (*it)[2];
    samples.push_back(std::move(s));
  }
  return samples;
}

// The sum of `name`'s samples whose labels include every pair of `match`.
inline double metric_sum(const std::vector<Sample>& samples, const std::string& name,
                         const std::map<std::string, std::string>& match = {}) {
  double sum = 0;
  for (const Sample& s : samples) {
    if (s.name != name)
      continue;
    bool all = true;
    for (const auto& [key, value] : match)
      all = all && s.labels.count(key) && s.labels.at(key) == value;
    if (all)
      sum += s.value;
  }
  return sum;
}

inline bool has_metric(const std::vector<Sample>& samples, const std::string& name) {
  for (const Sample& s : samples)
    if (s.name == name)
      return true;
  return false;
}

}  // namespace rngpool::test
