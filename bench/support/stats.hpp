// Order statistics for repeated measurements and latency samples.
//
// Medians, not means: on a shared 2-core machine a single run can lose a
// time slice to a neighbour, and one such outlier must not move the figure.
#pragma once

#include <vector>

namespace rngpool::bench {

double median(std::vector<double> samples);
// Nearest-rank percentile, p in (0, 100].
double percentile(std::vector<double> samples, double p);

}  // namespace rngpool::bench
