#include "support/stats.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace rngpool::bench {

double median(std::vector<double> samples)
{
  if (samples.empty()) throw std::invalid_argument("median of nothing");
  std::sort(samples.begin(), samples.end());
  const std::size_t mid = samples.size() / 2;
  return samples.size() % 2 == 1 ? samples[mid] : (samples[mid - 1] + samples[mid]) / 2;
}

double percentile(std::vector<double> samples, double p)
{
  if (samples.empty()) throw std::invalid_argument("percentile of nothing");
  const double rank = std::ceil(p / 100.0 * static_cast<double>(samples.size()));
  const std::size_t index = static_cast<std::size_t>(std::clamp(rank, 1.0, static_cast<double>(samples.size()))) - 1;
  std::nth_element(samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(index), samples.end());
  return samples[index];
}

}  // namespace rngpool::bench
