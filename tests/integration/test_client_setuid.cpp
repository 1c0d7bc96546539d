// $RNGPOOL_SOCKET in a privileged program (issue 9, item 2): a setuid-root
// program run by another user got its "random" bytes from whatever server
// that user named in the variable.  The library reads it with
// secure_getenv(3), which returns NULL when the kernel marks the process
// AT_SECURE (set-user-ID, set-group-ID or file capabilities).
//
// The case makes a set-user-ID-root copy of the rngpool CLI and runs it as
// another user with RNGPOOL_SOCKET naming a stub that serves zeros.  As a
// control, a plain copy run by the same user must reach the stub: so the
// variable is honoured where it should be, and the stub is reachable.  This
// needs root (to chown and to switch users) and a directory not mounted
// nosuid; without them the case says why it cannot run.
#include "rngpool/protocol/frame.hpp"
#include "rngpool/test/support.hpp"

#include <catch2/catch.hpp>

#include <sys/statvfs.h>
#include <unistd.h>

#include <filesystem>
#include <string>

using namespace rngpool::test;
namespace proto = rngpool::protocol;
namespace fs = std::filesystem;

namespace {

// The attacker's daemon: every GET_RANDOM gets zeros.
bool serve_zeros(int fd, const proto::Request& request) {
  std::array<std::uint8_t, proto::kHeaderSize> header{};
  proto::encode_header(proto::reply_header(request.opcode, request.header.request_id, proto::Status::ok,
                                           request.opcode == proto::Opcode::get_random ? request.count : 0),
                       header);
  if (!send_all(fd, header)) return false;
  const std::vector<std::uint8_t> zeros(request.opcode == proto::Opcode::get_random ? request.count : 0);
  return send_all(fd, zeros);
}

// Why the case cannot run here, or empty.
std::string cannot_run(const fs::path& dir) {
  if (::geteuid() != 0) return "not root: cannot make a set-user-ID-root program or switch users";
  if (kSanitized) return "sanitizer build: libasan does not run set-user-ID programs";
  if (run_command("command -v setpriv").exit_code != 0) return "setpriv (util-linux) is not installed";
  struct statvfs fs_info {};
  if (::statvfs(dir.c_str(), &fs_info) != 0) return "statvfs failed on " + dir.native();
  if ((fs_info.f_flag & ST_NOSUID) != 0) return dir.native() + " is mounted nosuid";
  return {};
}

CommandResult run_as(const Account& user, const std::string& socket, const fs::path& program) {
  const std::string id = std::to_string(user.id);
  // RNGPOOL_LOCAL_GENERATOR=0: the bytes printed are the server's own (the
  // set-user-ID copy ignores that variable too; it must not connect at all).
  return run_command("RNGPOOL_LOCAL_GENERATOR=0 RNGPOOL_SOCKET=" + shell_quote(socket) +
                     " timeout 20 setpriv --reuid=" + id + " --regid=" + id + " --clear-groups " +
                     shell_quote(program.native()) + " hex 8");
}

}  // namespace

TEST_CASE("client: a set-user-ID program ignores $RNGPOOL_SOCKET", "[client][setuid]") {
  TempDir dir("rngpool-suid");
  if (const std::string why = cannot_run(dir.path()); !why.empty()) {
    WARN("not run: " << why);
    return;
  }
  fs::permissions(dir.path(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                  fs::perms::others_read | fs::perms::others_exec);
  const std::string socket = (dir.path() / "fake.sock").native();
  StubServer fake(socket, serve_zeros);
  fs::permissions(socket, fs::perms::all);  // the unprivileged control must reach it

  const fs::path plain = dir.path() / "rngpool-plain";
  const fs::path setuid = dir.path() / "rngpool-setuid";
  fs::copy_file(rngpool_cli_path(), plain);
  fs::copy_file(rngpool_cli_path(), setuid);
  REQUIRE(::chown(setuid.c_str(), 0, 0) == 0);
  fs::permissions(plain, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
  fs::permissions(setuid, fs::perms::set_uid | fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
  const Account user = other_user();

  // The control: an ordinary program takes the variable.
  const CommandResult control = run_as(user, socket, plain);
  INFO("plain: exit " << control.exit_code << ", " << control.out << control.err);
  REQUIRE(control.exit_code == 0);
  CHECK(control.out == "0000000000000000\n");
  REQUIRE(fake.connections() == 1);

  // The same program set-user-ID root: the variable is not even looked at.
  const CommandResult privileged = run_as(user, socket, setuid);
  INFO("setuid: exit " << privileged.exit_code << ", " << privileged.out << privileged.err);
  CHECK(fake.connections() == 1);
  CHECK(privileged.out != "0000000000000000\n");
  CHECK_THAT(privileged.err + privileged.out, !Catch::Contains(socket));
}
