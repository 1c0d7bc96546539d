// Who may ask: --allow-user and --allow-group (PROTOCOL.md §6, PERMISSION_DENIED).
//
// The socket's permissions decide who can connect at all; these lists narrow
// that down by the credentials the kernel vouches for (SO_PEERCRED and
// SO_PEERGROUPS), which a client cannot forge.  A client is allowed when its
// uid, its primary gid or one of its supplementary groups is listed.  The
// decision is made once per connection, when it is accepted, so a request
// costs a bool read however long the lists are.
//
// Names are resolved to ids once, at start: SO_PEERCRED gives ids, and a
// user-database lookup per connection would put NSS (possibly the network)
// on the accept path.
//
// A user namespace can make a list unenforceable.  Under systemd's
// PrivateUsers= the daemon sees every client whose id its namespace does not
// map as the overflow id (65534, "nobody"): a listed unmapped id could never
// match, and a listed overflow id would let in every unmapped client.  Both
// are refused at start (id_visibility).
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rngpool::server {

static_assert(sizeof(uid_t) == sizeof(std::uint32_t) && sizeof(gid_t) == sizeof(std::uint32_t),
              "ids are handled as 32-bit numbers");

// ---------------------------------------------------------------------------
// The policy and the decision
// ---------------------------------------------------------------------------

struct AccessPolicy {
  std::vector<uid_t> users;   // --allow-user, resolved
  std::vector<gid_t> groups;  // --allow-group, resolved

  // Neither list set: everybody who can open the socket may ask.
  bool restricts() const { return !users.empty() || !groups.empty(); }
  bool lists_user(uid_t uid) const { return std::find(users.begin(), users.end(), uid) != users.end(); }
  bool lists_group(gid_t gid) const { return std::find(groups.begin(), groups.end(), gid) != groups.end(); }
};

// SO_PEERCRED of the connected Unix socket `fd`; nullopt (errno set) when
// it cannot be read.
std::optional<ucred> peer_credentials(int fd);

// A client's supplementary groups, or why they could not be read.
struct PeerGroups {
  std::vector<gid_t> gids;
  int error = 0;  // errno of SO_PEERGROUPS (ENOPROTOOPT before Linux 4.13)
};

// SO_PEERGROUPS of the connected Unix socket `fd`, starting with room for
// `capacity` groups and retrying with the size the kernel reports (ERANGE).
PeerGroups peer_groups(int fd, std::size_t capacity = 32);

// Why a client may ask or not; printed into the debug log.
struct AccessDecision {
  enum class Why { unrestricted, user, primary_group, supplementary_group, unlisted };
  Why why = Why::unrestricted;
  gid_t group = 0;     // the listed group that matched
  int groups_error = 0;  // SO_PEERGROUPS failed, so only uid and primary gid counted

  bool allowed() const { return why != Why::unlisted; }
};

std::ostream& operator<<(std::ostream& out, const AccessDecision& decision);

// Decides for a client with SO_PEERCRED `peer`.  `read_groups()` returns its
// PeerGroups; it is called only when the uid and primary gid did not
// decide, so an unrestricted daemon never reads them.
template <typename ReadGroups>
AccessDecision decide_access(const AccessPolicy& policy, const ucred& peer, ReadGroups read_groups) {
  using Why = AccessDecision::Why;
  if (!policy.restricts())
    return {Why::unrestricted};
  if (policy.lists_user(peer.uid))
    return {Why::user};
  if (policy.lists_group(peer.gid))
    return {Why::primary_group, peer.gid};
  if (policy.groups.empty())
    return {Why::unlisted};
  PeerGroups groups = read_groups();
  for (gid_t gid : groups.gids)
    if (policy.lists_group(gid))
      return {Why::supplementary_group, gid};
  return {Why::unlisted, 0, groups.error};
}

// The PERMISSION_DENIED message; nullopt when SO_PEERCRED could not be read.
std::string permission_denied_message(std::optional<uid_t> uid);

// ---------------------------------------------------------------------------
// Resolving the lists at start
// ---------------------------------------------------------------------------

enum class IdKind { user, group };

// The id of a user or group name (getpwnam_r / getgrnam_r), nullopt when
// there is none; throws std::system_error when the lookup itself fails.
std::optional<std::uint32_t> id_of_name(IdKind kind, const std::string& name);

enum class IdVisibility {
  visible,   // a client with this id shows up with it
  unmapped,  // outside the user namespace's map: never seen as such
  overflow,  // the overflow id while some ids are unmapped: ambiguous
};

// `id_map` is /proc/self/uid_map (or gid_map) text: "inside outside count"
// lines.  Pure, for the tests.
IdVisibility id_visibility(std::string_view id_map, std::uint32_t id, std::uint32_t overflow_id);
// The same for this process, from /proc/self and /proc/sys/kernel.
IdVisibility id_visibility(IdKind kind, std::uint32_t id);
// 65534 unless /proc/sys/kernel/overflowuid (overflowgid) says otherwise.
std::uint32_t overflow_id(IdKind kind);

}  // namespace rngpool::server
