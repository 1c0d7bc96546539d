// SecureBuffer: zeroed, page-backed, wiped; locked and undumpable as the
// kernel sees it in /proc/self/smaps.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

#include "generator/secure_memory.hpp"

using rngpool::core::SecureBuffer;

namespace {

bool all_zero(std::span<const std::uint8_t> bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](std::uint8_t b) { return b == 0; });
}

// The VmFlags line of the mapping that holds `address`.
std::string vm_flags(const void* address) {
  const auto a = reinterpret_cast<std::uintptr_t>(address);
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    std::uintptr_t lo = 0, hi = 0;
    char dash = 0;
    std::istringstream range(line);
    if (range >> std::hex >> lo >> dash >> hi && dash == '-') {
      inside = lo <= a && a < hi;
    } else if (inside && line.rfind("VmFlags:", 0) == 0) {
      return line;
    }
  }
  return {};
}

bool has_flag(const std::string& flags, const std::string& flag) {
  return (flags + " ").find(" " + flag + " ") != std::string::npos;
}

}  // namespace

TEST_CASE("SecureBuffer: zero-filled, page-aligned, as large as asked", "[secure_memory]") {
  SecureBuffer b(100);
  CHECK(b.size() == 100);
  CHECK(b.bytes().size() == 100);
  CHECK(all_zero(b.bytes()));
  CHECK(reinterpret_cast<std::uintptr_t>(b.data()) % static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE)) == 0);
}

TEST_CASE("SecureBuffer: wipe() zeroes every byte", "[secure_memory]") {
  SecureBuffer b(5000);
  std::fill(b.bytes().begin(), b.bytes().end(), std::uint8_t{0xa5});
  b.wipe();
  CHECK(all_zero(b.bytes()));
}

TEST_CASE("wipe(): zeroes a span outside secure memory", "[secure_memory]") {
  std::uint8_t bytes[33];
  std::fill(std::begin(bytes), std::end(bytes), std::uint8_t{0x5a});
  rngpool::core::wipe(bytes);
  CHECK(all_zero(bytes));
}

TEST_CASE("SecureBuffer: size 0 is refused", "[secure_memory]") {
  CHECK_THROWS_AS(SecureBuffer(0), std::invalid_argument);
}

TEST_CASE("SecureBuffer: the kernel sees the mapping undumpable, and locked when we say so", "[secure_memory]") {
  SecureBuffer b(10000);
  const std::string flags = vm_flags(b.data());
  INFO(flags);
  REQUIRE_FALSE(flags.empty());
  CHECK(has_flag(flags, "dd"));
  CHECK(has_flag(flags, "lo") == b.locked());
  // The last page belongs to the same mapping.
  CHECK(vm_flags(b.data() + b.size() - 1) == flags);
}
