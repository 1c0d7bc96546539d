// The two ways AllocationProbe measures, chosen by whether ASan is present
// (see allocation_probe.hpp).  Tests run on one thread, and so does this.

#include "allocation_probe.hpp"

#include <cstdlib>
#include <new>

#if defined(__SANITIZE_ADDRESS__)

// From the sanitizer runtime; g++ ships no header declaring it.
extern "C" std::size_t __sanitizer_get_current_allocated_bytes();

namespace {
std::size_t allocated_at_start = 0;
}  // namespace

namespace rngpool::protocol::test {

AllocationProbe::AllocationProbe() { allocated_at_start = __sanitizer_get_current_allocated_bytes(); }
AllocationProbe::~AllocationProbe() = default;

std::size_t AllocationProbe::largest() const
{
  const std::size_t now = __sanitizer_get_current_allocated_bytes();
  return now > allocated_at_start ? now - allocated_at_start : 0;
}

}  // namespace rngpool::protocol::test

#else

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

#endif
