// Bounds the heap memory used while a probe is alive, so a test can show
// that a decoder never allocates what a hostile length field claims.
//
// Normal builds replace the global operator new and record the largest
// single allocation.  ASan owns operator new, so there the probe reports how
// far the allocated total grew instead, from the sanitizer's own count.
// Either figure is at least as large as any buffer sized by a length field.
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
