// Measures the largest heap allocation made while a probe is alive, through
// the replacement operator new in allocation_probe.cpp.  It lets a test show
// that a decoder never allocates what a hostile length field claims.
#pragma once

#include <cstddef>

namespace rngpool::protocol::test {

class AllocationProbe {
 public:
  AllocationProbe();
  ~AllocationProbe();
  AllocationProbe(const AllocationProbe&) = delete;
  AllocationProbe& operator=(const AllocationProbe&) = delete;
  std::size_t largest() const;
};

}  // namespace rngpool::protocol::test
