// compare_digest: equality, and no early exit on a difference.
#include "rngpool/client.hpp"

#include <catch2/catch.hpp>

#include <vector>

TEST_CASE("compare_digest compares contents and lengths") {
  using rngpool::compare_digest;
  CHECK(compare_digest("", ""));
  CHECK(compare_digest("abc", "abc"));
  CHECK_FALSE(compare_digest("abc", "abd"));
  CHECK_FALSE(compare_digest("abc", "xbc"));
  CHECK_FALSE(compare_digest("abc", "abcd"));
  CHECK_FALSE(compare_digest("", "a"));
  const std::vector<std::uint8_t> a{0, 1, 2, 0xff}, b{0, 1, 2, 0xff}, c{0, 1, 2, 0xfe};
  CHECK(compare_digest(a, b));
  CHECK_FALSE(compare_digest(a, c));
  // Embedded NULs are content, not terminators.
  CHECK_FALSE(compare_digest(std::string_view("a\0b", 3), std::string_view("a\0c", 3)));
}
