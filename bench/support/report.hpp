// How results are printed: one markdown table per section, in the columns
// every section shares, plus the machine they were measured on.
//
// Figures are only meaningful next to their baseline and the machine, so
// the table always carries both, and the header names the CPU, the date, the
// load average and where the processes ran.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace rngpool::bench {

struct Row {
  std::string name;
  std::string rngpool;
  std::string baselines;
  std::string ratio;
  std::string target;
  std::optional<bool> met;  // nullopt: no target for this row
};

// `note`, when given, is printed under the table (e.g. which rows a target
// applies to).
void print_table(const std::string& title, const std::vector<Row>& rows, const std::string& note = {});
void print_machine(const std::string& placement, int repetitions);
std::string cpu_model();  // /proc/cpuinfo's first model name

std::string format_rate(double per_second);  // "123.4 k/s"
std::string format_mbps(double megabytes);   // "1234 MB/s"
std::string format_duration_us(double us);   // "45 µs", "1.23 ms"
std::string format_kib(double kib);          // "5.3 MiB"
std::string format_ratio(double ratio);      // "0.93×"
std::string format_percent(double fraction);  // "0.05 %"

}  // namespace rngpool::bench
