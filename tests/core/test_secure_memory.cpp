// SecureBuffer: zeroed, page-backed, wiped; locked and undumpable as the
// kernel sees it in /proc/self/smaps.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

#include "generator/secure_memory.hpp"
#include "rngpool/test/process_memory.hpp"

using rngpool::core::SecureBuffer;
using rngpool::test::has_vm_flag;
using rngpool::test::vm_flags;

namespace {

bool all_zero(std::span<const std::uint8_t> bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](std::uint8_t b) { return b == 0; });
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
  CHECK(has_vm_flag(flags, "dd"));
  CHECK(has_vm_flag(flags, "lo") == b.locked());
  // The last page belongs to the same mapping.
  CHECK(vm_flags(b.data() + b.size() - 1) == flags);
}

// Issue 11: librngpool's local generator relies on a fork child finding its
// state zeroed, whichever way the child was made.
TEST_CASE("SecureBuffer: wipe_on_fork() leaves a fork child zeroes, the parent its bytes", "[secure_memory]") {
  SecureBuffer b(100);
  std::fill(b.bytes().begin(), b.bytes().end(), std::uint8_t{0xA5});
  REQUIRE(b.wipe_on_fork());
  CHECK(has_vm_flag(vm_flags(b.data()), "wf"));
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) _exit(all_zero(b.bytes()) ? 0 : 1);
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(std::all_of(b.bytes().begin(), b.bytes().end(), [](std::uint8_t x) { return x == 0xA5; }));
}

TEST_CASE("SecureBuffer: relock() locks the pages again", "[secure_memory]") {
  SecureBuffer b(100);
  CHECK(b.relock() == b.locked());
  CHECK(has_vm_flag(vm_flags(b.data()), "lo") == b.locked());
}
