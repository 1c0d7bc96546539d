#include "support/reps_options.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

namespace rngpool::bench {

namespace {

int number_of(std::string_view option, const char* text, int floor) {
  int value = 0;
  const std::string_view digits(text);
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (error != std::errc() || end != digits.data() + digits.size())
    throw std::invalid_argument(std::string(option) + " wants a whole number, not \"" + text + "\"");
  return std::max(floor, value);
}

void print_usage(const char* program, const RepsOptions& defaults) {
  std::printf("usage: %s [--reps N] [--ms MS]\n"
              "  --reps N   repetitions per figure; the median is reported (default %d)\n"
              "  --ms MS    milliseconds per repetition, at least 10 (default %d)\n",
              program, defaults.reps, defaults.ms);
}

}  // namespace

RepsOptions parse_reps_options(int argc, char** argv, RepsOptions options) {
  const RepsOptions defaults = options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view option(argv[i]);
    if (option == "--help" || option == "-h") {
      print_usage(argv[0], defaults);
      std::exit(0);
    }
    if (option != "--reps" && option != "--ms") throw std::invalid_argument("unknown option " + std::string(option));
    if (i + 1 == argc) throw std::invalid_argument(std::string(option) + " needs a value");
    const char* value = argv[++i];
    if (option == "--reps") options.reps = number_of(option, value, 1);
    else options.ms = number_of(option, value, 10);
  }
  return options;
}

}  // namespace rngpool::bench
