#include "support/options.hpp"

#include "rngpool/test/binaries.hpp"

#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string_view>

namespace rngpool::bench {

namespace {

constexpr std::string_view kUsage = R"(usage: bench_service [options]
Measures rngpoold against a bare Unix-socket server and getrandom(2), and
prints one markdown table per section.

  --quick             smoke run: same sections, short measurements (~20 s)
  --pin               daemon and bare server on CPU 0, load generator on CPU 1
                      (the default when there are 2 or more CPUs)
  --no-pin            let the scheduler place every process
  --daemon PATH       rngpoold binary (default: the one this build made)
  --reps N            repetitions per figure (default 5; medians are reported)
  --load-threads N    load generator threads (default 1)
  --sections LIST     comma-separated subset of startup,small,bulk,fairness,footprint,scrape
  --verbose           print every sample to stderr
)";

[[noreturn]] void usage(const std::string& error)
{
  if (!error.empty()) std::cerr << "bench_service: " << error << "\n";
  (error.empty() ? std::cout : std::cerr) << kUsage;
  std::exit(error.empty() ? 0 : 2);
}

int positive_int(const std::string& option, const char* text)
{
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  if (*end != '\0' || value < 1 || value > 1000) usage(option + " wants an integer in [1, 1000]");
  return static_cast<int>(value);
}

}  // namespace

Options parse_options(int argc, char** argv)
{
  Options options;
  options.daemon = test::rngpoold_path();
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) usage(arg + " wants a value");
      return argv[++i];
    };
    if (arg == "--quick") {
      options.quick = true;
    } else if (arg == "--pin") {
      options.pin = true;
    } else if (arg == "--no-pin") {
      options.pin = false;
    } else if (arg == "--verbose") {
      options.verbose = true;
    } else if (arg == "--daemon") {
      options.daemon = value();
    } else if (arg == "--reps") {
      options.repetitions = positive_int(arg, value());
    } else if (arg == "--load-threads") {
      options.load_threads = positive_int(arg, value());
    } else if (arg == "--sections") {
      options.sections.clear();
      std::istringstream list(value());
      std::string section;
      while (std::getline(list, section, ',')) {
        if (section != "startup" && section != "small" && section != "bulk" && section != "fairness" &&
            section != "footprint" && section != "scrape") {
          usage("unknown section " + section);
        }
        options.sections.insert(section);
      }
    } else if (arg == "--bare-server") {
      options.bare_server = value();
    } else if (arg == "--help" || arg == "-h") {
      usage("");
    } else {
      usage("unknown option " + arg);
    }
  }
  if (options.quick) {
    options.small_seconds = 0.1;
    options.bulk_seconds = 0.2;
    options.fairness_seconds = 0.3;
    options.idle_seconds = 1.0;
    options.warmup_seconds = 0.05;
  }
  if (!options.bare_server && options.daemon.empty()) usage("no rngpoold in this build; pass --daemon PATH");
  return options;
}

}  // namespace rngpool::bench
