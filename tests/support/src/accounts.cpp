#include "rngpool/test/accounts.hpp"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <vector>

namespace rngpool::test {

namespace {

std::uint32_t overflow_id(const char* path) {
  std::ifstream file(path);
  std::uint32_t id = 0;
  return file >> id ? id : 65534;
}

std::vector<gid_t> own_groups() {
  std::vector<gid_t> groups(static_cast<std::size_t>(std::max(getgroups(0, nullptr), 0)));
  groups.resize(static_cast<std::size_t>(std::max(getgroups(static_cast<int>(groups.size()), groups.data()), 0)));
  groups.push_back(getegid());
  return groups;
}

// The first entry `next()` yields that `fits`, walking the database once.
template <typename Entry, typename Fits>
std::optional<Account> first_entry(Entry* (*next)(), void (*rewind)(), void (*close)(), Fits fits) {
  rewind();
  std::optional<Account> found;
  while (Entry* entry = next())
    if (fits(*entry)) {
      found = Account{entry->*Fits::name, static_cast<std::uint32_t>(entry->*Fits::id)};
      break;
    }
  close();
  return found;
}

struct OtherUser {
  static constexpr auto name = &passwd::pw_name;
  static constexpr auto id = &passwd::pw_uid;
  uid_t own = geteuid();
  uid_t overflow = overflow_id("/proc/sys/kernel/overflowuid");
  bool operator()(const passwd& entry) const { return entry.pw_uid != own && entry.pw_uid != overflow; }
};

struct ForeignGroup {
  static constexpr auto name = &group::gr_name;
  static constexpr auto id = &group::gr_gid;
  std::vector<gid_t> own = own_groups();
  gid_t overflow = overflow_id("/proc/sys/kernel/overflowgid");
  bool operator()(const group& entry) const {
    return entry.gr_gid != overflow && std::find(own.begin(), own.end(), entry.gr_gid) == own.end();
  }
};

}  // namespace

Account own_user() {
  const passwd* entry = getpwuid(geteuid());
  if (entry == nullptr)
    throw std::runtime_error("the test's own uid has no entry in the user database");
  return {entry->pw_name, entry->pw_uid};
}

Account own_group() {
  const group* entry = getgrgid(getegid());
  if (entry == nullptr)
    throw std::runtime_error("the test's own primary gid has no entry in the group database");
  return {entry->gr_name, entry->gr_gid};
}

Account other_user() {
  if (auto found = first_entry(getpwent, setpwent, endpwent, OtherUser{}))
    return *found;
  throw std::runtime_error("the user database holds no user but the test's own");
}

Account foreign_group() {
  if (auto found = first_entry(getgrent, setgrent, endgrent, ForeignGroup{}))
    return *found;
  throw std::runtime_error("the group database holds no group the test is not in");
}

std::string unknown_account_name() {
  std::string name = "rngpool-nobody";
  while (getpwnam(name.c_str()) != nullptr || getgrnam(name.c_str()) != nullptr)
    name += "x";
  return name;
}

}  // namespace rngpool::test
