// Users and groups from this machine's user database, for the access-policy
// tests (--allow-user, --allow-group).
//
// Those tests must pass as whoever runs them, root or not, on any machine:
// so they never switch identity, and name only accounts found at run time --
// the test's own user and primary group, and others it is not.  Ids equal to
// the kernel's overflow id (65534) are passed over, since rngpoold refuses to
// list them inside a user namespace that does not map every id.
#pragma once

#include <cstdint>
#include <string>

namespace rngpool::test {

struct Account {
  std::string name;
  std::uint32_t id;
};

Account own_user();         // the effective uid's entry
Account own_group();        // the effective primary gid's entry
// Another user (a different uid) and a group this process is not in, as
// primary or supplementary group.  Each throws std::runtime_error when the
// database has none: a test that needs one then fails rather than skips.
Account other_user();
Account foreign_group();
// A name no user and no group has.
std::string unknown_account_name();

}  // namespace rngpool::test
