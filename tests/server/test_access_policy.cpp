// The access policy behind --allow-user/--allow-group (PROTOCOL.md §6.1):
// who is let in, when the supplementary groups are read, SO_PEERGROUPS
// itself, the refusal's message and the user-namespace check.
#include "serve/access_policy.hpp"

#include "rngpool/test/accounts.hpp"
#include "rngpool/test/fd.hpp"

#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <sstream>

using namespace rngpool::server;
using Why = AccessDecision::Why;

namespace {

ucred peer(uid_t uid, gid_t gid) { return ucred{.pid = 1, .uid = uid, .gid = gid}; }

// Decides with the given supplementary groups, counting the reads.
struct Decide {
  AccessPolicy policy;
  int reads = 0;
  AccessDecision operator()(const ucred& credentials, PeerGroups groups = {}) {
    return decide_access(policy, credentials, [&] {
      ++reads;
      return groups;
    });
  }
};

std::string text(const AccessDecision& decision) {
  std::ostringstream out;
  out << decision;
  return out.str();
}

std::vector<gid_t> sorted(std::vector<gid_t> gids) {
  std::sort(gids.begin(), gids.end());
  return gids;
}

}  // namespace

// ---------------------------------------------------------------------------
// Deciding
// ---------------------------------------------------------------------------

TEST_CASE("without lists everybody may ask and no groups are read", "[server][access]") {
  Decide decide;
  auto decision = decide(peer(1000, 1000));
  CHECK(decision.allowed());
  CHECK(decision.why == Why::unrestricted);
  CHECK(decide.reads == 0);
}

TEST_CASE("a listed uid, primary gid or supplementary group lets a client in", "[server][access]") {
  Decide decide{AccessPolicy{.users = {1000}, .groups = {27}}};
  CHECK(decide(peer(1000, 1000)).why == Why::user);
  auto primary = decide(peer(1001, 27));
  CHECK(primary.why == Why::primary_group);
  CHECK(primary.group == 27);
  CHECK(decide.reads == 0);  // the uid and the primary gid decided

  auto supplementary = decide(peer(1001, 1001), PeerGroups{{4, 27}});
  CHECK(supplementary.why == Why::supplementary_group);
  CHECK(supplementary.group == 27);
  CHECK(text(supplementary) == "may ask (supplementary group 27 in --allow-group)");

  auto unlisted = decide(peer(1001, 1001), PeerGroups{{4, 24}});
  CHECK_FALSE(unlisted.allowed());
  CHECK(text(unlisted) == "refused: not in --allow-user/--allow-group");
}

TEST_CASE("with only --allow-user the groups are never read", "[server][access]") {
  Decide decide{AccessPolicy{.users = {0}}};
  CHECK_FALSE(decide(peer(1000, 0), PeerGroups{{0}}).allowed());
  CHECK(decide.reads == 0);
}

TEST_CASE("unreadable supplementary groups refuse, and the log says why", "[server][access]") {
  Decide decide{AccessPolicy{.groups = {27}}};
  auto decision = decide(peer(1000, 1000), PeerGroups{{}, ENOPROTOOPT});
  CHECK_FALSE(decision.allowed());
  CHECK(decision.groups_error == ENOPROTOOPT);
  CHECK_THAT(text(decision), Catch::Contains("SO_PEERGROUPS failed"));
}

TEST_CASE("the PERMISSION_DENIED message names the uid and the options", "[server][access]") {
  CHECK(permission_denied_message(1000) == "uid 1000 is not in --allow-user/--allow-group");
  CHECK_THAT(permission_denied_message(std::nullopt),
             Catch::Contains("SO_PEERCRED") && Catch::Contains("--allow-user/--allow-group"));
}

// ---------------------------------------------------------------------------
// SO_PEERGROUPS
//
// The peer of a socketpair is this process, so its groups are getgroups()'s.
// A first buffer too small for them takes the ERANGE retry.
// ---------------------------------------------------------------------------

TEST_CASE("SO_PEERGROUPS gives the peer's groups whatever the first buffer's size", "[server][access]") {
  int fds[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
  rngpool::test::Fd ours(fds[0]), theirs(fds[1]);
  std::vector<gid_t> expected(static_cast<std::size_t>(::getgroups(0, nullptr)));
  REQUIRE(::getgroups(static_cast<int>(expected.size()), expected.data()) == static_cast<int>(expected.size()));
  for (std::size_t capacity : {std::size_t{0}, std::size_t{1}, std::size_t{32}}) {
    INFO("first buffer: " << capacity << " groups; the process has " << expected.size());
    PeerGroups groups = peer_groups(ours.get(), capacity);
    CHECK(groups.error == 0);
    CHECK(sorted(groups.gids) == sorted(expected));
  }
}

// ---------------------------------------------------------------------------
// Resolving names
// ---------------------------------------------------------------------------

TEST_CASE("names resolve through the user and group databases", "[server][access]") {
  const auto user = rngpool::test::own_user();
  const auto group = rngpool::test::own_group();
  CHECK(id_of_name(IdKind::user, user.name) == user.id);
  CHECK(id_of_name(IdKind::group, group.name) == group.id);
  const std::string unknown = rngpool::test::unknown_account_name();
  CHECK_FALSE(id_of_name(IdKind::user, unknown).has_value());
  CHECK_FALSE(id_of_name(IdKind::group, unknown).has_value());
}

// ---------------------------------------------------------------------------
// User namespaces
//
// The maps as the kernel shows them in /proc/self/uid_map: the initial
// namespace, and those systemd sets up for PrivateUsers=yes (root and the
// unit's user 998), =identity (the first 65536 ids) and =full.
// ---------------------------------------------------------------------------

TEST_CASE("an id must be mapped, and the overflow id only counts where every id is", "[server][access]") {
  constexpr std::uint32_t overflow = 65534;
  const char* initial = "         0          0 4294967295\n";
  CHECK(id_visibility(initial, 1000, overflow) == IdVisibility::visible);
  CHECK(id_visibility(initial, overflow, overflow) == IdVisibility::visible);

  const char* self = "         0          0          1\n       998        998          1\n";
  CHECK(id_visibility(self, 0, overflow) == IdVisibility::visible);
  CHECK(id_visibility(self, 998, overflow) == IdVisibility::visible);
  CHECK(id_visibility(self, 1000, overflow) == IdVisibility::unmapped);
  CHECK(id_visibility(self, overflow, overflow) == IdVisibility::overflow);

  const char* identity = "         0          0      65536\n";
  CHECK(id_visibility(identity, 1000, overflow) == IdVisibility::visible);
  CHECK(id_visibility(identity, overflow, overflow) == IdVisibility::overflow);
  CHECK(id_visibility(identity, 70000, overflow) == IdVisibility::unmapped);

  const char* full = "         0          0          1\n         1          1 4294967294\n";
  CHECK(id_visibility(full, overflow, overflow) == IdVisibility::visible);

  CHECK(id_visibility("", 0, overflow) == IdVisibility::unmapped);  // no map written yet
}

TEST_CASE("this process sees its own ids", "[server][access]") {
  CHECK(id_visibility(IdKind::user, ::geteuid()) == IdVisibility::visible);
  CHECK(id_visibility(IdKind::group, ::getegid()) == IdVisibility::visible);
}
