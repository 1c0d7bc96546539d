#include "support/report.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sys/utsname.h>
#include <thread>

namespace rngpool::bench {

namespace {

std::string printf_string(const char* format, double value)
{
  char text[64];
  std::snprintf(text, sizeof text, format, value);
  return text;
}

}  // namespace

std::string cpu_model()
{
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(colon + 2);
    }
  }
  return "unknown";
}


void print_table(const std::string& title, const std::vector<Row>& rows, const std::string& note)
{
  std::cout << "\n### " << title << "\n\n"
            << "| case | rngpool | baseline(s) | ratio | target | met? |\n"
            << "| --- | ---: | ---: | ---: | --- | --- |\n";
  for (const auto& r : rows) {
    const char* met = !r.met ? "—" : *r.met ? "yes" : "**NO**";
    std::cout << "| " << r.name << " | " << r.rngpool << " | " << r.baselines << " | " << r.ratio << " | "
              << r.target << " | " << met << " |\n";
  }
  if (!note.empty()) std::cout << "\n" << note << "\n";
  std::cout.flush();
}

void print_machine(const std::string& placement, int repetitions)
{
  char date[64];
  const std::time_t now = std::time(nullptr);
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
  utsname uts{};
  ::uname(&uts);
  double load[3] = {0, 0, 0};
  ::getloadavg(load, 3);
  std::cout << "## rngpool service benchmark\n\n"
            << "- date: " << date << "\n"
            << "- machine: " << std::thread::hardware_concurrency() << " CPUs, " << cpu_model() << ", Linux "
            << uts.release << "\n"
            << "- load average at start: " << printf_string("%.2f", load[0]) << "\n"
            << "- placement: " << placement << "\n"
            << "- every figure is the median of " << repetitions
            << " repetitions; rngpool and the bare server alternate within each repetition, and a ratio to the\n"
            << "  bare server is the median of the per-repetition ratios\n";
  std::cout.flush();
}

std::string format_rate(double per_second)
{
  if (per_second >= 1e6) return printf_string("%.2f M/s", per_second / 1e6);
  if (per_second >= 1e3) return printf_string("%.1f k/s", per_second / 1e3);
  return printf_string("%.0f /s", per_second);
}

std::string format_mbps(double megabytes) { return printf_string("%.0f MB/s", megabytes); }

std::string format_duration_us(double us)
{
  if (us >= 1000) return printf_string("%.2f ms", us / 1000);
  return printf_string("%.0f µs", us);
}

std::string format_kib(double kib) { return printf_string("%.1f MiB", kib / 1024); }

std::string format_ratio(double ratio) { return printf_string("%.2f×", ratio); }

std::string format_percent(double fraction) { return printf_string("%.2f %%", fraction * 100); }

}  // namespace rngpool::bench
