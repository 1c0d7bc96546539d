// Replacement global operator new for the protocol test binary: it records
// the largest request while an AllocationProbe is alive.  Tests run on one
// thread, and so does this probe.

#include "allocation_probe.hpp"

#include <cstdlib>
#include <new>

namespace {

bool probing = false;
std::size_t largest_seen = 0;

void* allocate(std::size_t size)
{
  if (probing && size > largest_seen)
    largest_seen = size;
  if (void* p = std::malloc(size == 0 ? 1 : size))
    return p;
  throw std::bad_alloc();
}

}  // namespace

void* operator new(std::size_t size) { return allocate(size); }
void* operator new[](std::size_t size) { return allocate(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace rngpool::protocol::test {

AllocationProbe::AllocationProbe()
{
  largest_seen = 0;
  probing = true;
}

AllocationProbe::~AllocationProbe() { probing = false; }

std::size_t AllocationProbe::largest() const { return largest_seen; }

}  // namespace rngpool::protocol::test
