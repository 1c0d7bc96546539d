#include "serve/access_policy.hpp"

#include <grp.h>
#include <pwd.h>

#include <cerrno>
#include <fstream>
#include <ostream>
#include <sstream>
#include <system_error>

#include "runtime/log.hpp"

namespace rngpool::server {

// ---------------------------------------------------------------------------
// The client's groups
//
// SO_PEERCRED carries only the primary gid; the supplementary groups, which
// is how most users are given access to things, need SO_PEERGROUPS (Linux
// 4.13).  Both are the credentials at connect(2) time.
// ---------------------------------------------------------------------------

std::optional<ucred> peer_credentials(int fd) {
  ucred peer{};
  socklen_t size = sizeof peer;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &size) != 0)
    return std::nullopt;
  return peer;
}

PeerGroups peer_groups(int fd, std::size_t capacity) {
  std::vector<gid_t> gids(capacity);
  for (;;) {
    auto size = static_cast<socklen_t>(gids.size() * sizeof(gid_t));
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, gids.data(), &size) == 0) {
      gids.resize(size / sizeof(gid_t));
      return {std::move(gids), 0};
    }
    const std::size_t needed = size / sizeof(gid_t);
    if (errno != ERANGE || needed <= gids.size())
      return {{}, errno};
    gids.resize(needed);
  }
}

// ---------------------------------------------------------------------------
// What the client and the log are told
// ---------------------------------------------------------------------------

std::ostream& operator<<(std::ostream& out, const AccessDecision& decision) {
  using Why = AccessDecision::Why;
  switch (decision.why) {
    case Why::unrestricted:
      return out << "may ask (no --allow-user/--allow-group)";
    case Why::user:
      return out << "may ask (uid in --allow-user)";
    case Why::primary_group:
      return out << "may ask (primary gid " << decision.group << " in --allow-group)";
    case Why::supplementary_group:
      return out << "may ask (supplementary group " << decision.group << " in --allow-group)";
    case Why::unlisted:
      out << "refused: not in --allow-user/--allow-group";
      if (decision.groups_error != 0)
        out << " (SO_PEERGROUPS failed: " << errno_text(decision.groups_error) << ")";
      return out;
  }
  return out;
}

std::string permission_denied_message(std::optional<uid_t> uid) {
  if (!uid)
    return "this client's credentials (SO_PEERCRED) could not be read to check --allow-user/--allow-group";
  return "uid " + std::to_string(*uid) + " is not in --allow-user/--allow-group";
}

// ---------------------------------------------------------------------------
// Names to ids
//
// The reentrant lookups, growing the buffer while they say ERANGE: a group
// with many members needs more than any fixed size.  glibc documents ENOENT,
// ESRCH, EBADF and EPERM as other ways of saying "no such name".
// ---------------------------------------------------------------------------

namespace {

constexpr std::size_t kMaxLookupBuffer = 16u << 20;

bool means_not_found(int error) { return error == ENOENT || error == ESRCH || error == EBADF || error == EPERM; }

template <typename Entry, typename Id>
std::optional<std::uint32_t> look_up(int (*get)(const char*, Entry*, char*, std::size_t, Entry**), Id Entry::*id,
                                     const std::string& name) {
  std::vector<char> buffer(1024);
  for (;;) {
    Entry entry{};
    Entry* found = nullptr;
    const int error = get(name.c_str(), &entry, buffer.data(), buffer.size(), &found);
    if (error == ERANGE && buffer.size() < kMaxLookupBuffer) {
      buffer.resize(buffer.size() * 2);
      continue;
    }
    if (error != 0 && !means_not_found(error))
      throw std::system_error(error, std::generic_category(), "looking up " + name);
    if (found == nullptr)
      return std::nullopt;
    return static_cast<std::uint32_t>(found->*id);
  }
}

}  // namespace

std::optional<std::uint32_t> id_of_name(IdKind kind, const std::string& name) {
  return kind == IdKind::user ? look_up(::getpwnam_r, &passwd::pw_uid, name)
                              : look_up(::getgrnam_r, &group::gr_gid, name);
}

// ---------------------------------------------------------------------------
// The user namespace
//
// /proc/self/uid_map lists "inside outside count" ranges; the daemon sees a
// client's id only when it lies inside one of them.  The initial namespace
// maps everything ("0 0 4294967295"), as does systemd's PrivateUsers=full;
// PrivateUsers=yes maps only root and the unit's own user and group.
// ---------------------------------------------------------------------------

namespace {

// Every id but 4294967295, which is (uid_t) -1 and no process has.
constexpr std::uint64_t kAllIds = 0xFFFF'FFFFu;

std::optional<std::string> read_text(const char* path) {
  std::ifstream file(path);
  if (!file)
    return std::nullopt;
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

}  // namespace

IdVisibility id_visibility(std::string_view id_map, std::uint32_t id, std::uint32_t overflow) {
  std::istringstream lines{std::string(id_map)};
  std::uint64_t inside = 0, outside = 0, count = 0, covered = 0;
  bool mapped = false;
  while (lines >> inside >> outside >> count) {
    covered += count;
    mapped = mapped || (id >= inside && id - inside < count);
  }
  if (id == overflow && covered < kAllIds)
    return IdVisibility::overflow;
  return mapped ? IdVisibility::visible : IdVisibility::unmapped;
}

std::uint32_t overflow_id(IdKind kind) {
  auto text = read_text(kind == IdKind::user ? "/proc/sys/kernel/overflowuid" : "/proc/sys/kernel/overflowgid");
  std::istringstream in(text.value_or(""));
  std::uint32_t id = 0;
  return in >> id ? id : 65534;
}

// Without /proc there is no telling; a daemon outside any namespace is far
// likelier than one inside a namespace without /proc, so the id counts as
// visible.
IdVisibility id_visibility(IdKind kind, std::uint32_t id) {
  auto map = read_text(kind == IdKind::user ? "/proc/self/uid_map" : "/proc/self/gid_map");
  return map ? id_visibility(*map, id, overflow_id(kind)) : IdVisibility::visible;
}

}  // namespace rngpool::server
