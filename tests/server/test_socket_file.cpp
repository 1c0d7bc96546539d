// The socket file (socket_file.hpp, issue 9 §3): exact modes whatever the
// umask, no chmod by name, and a directory others may write refused.
#include "serve/socket_file.hpp"

#include "rngpool/test/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <filesystem>
#include <string>

using namespace rngpool::server;
using rngpool::test::TempDir;

// ---------------------------------------------------------------------------
// Counting chmod by name
//
// These definitions interpose on libc's for everything linked into this
// binary, rngpoold_lib included: a chmod(2) by path after bind(2) is the race
// the issue describes (a symlink swapped in between), so binding must make
// none.  They forward to the system call, so other code is unaffected.
// ---------------------------------------------------------------------------

namespace {
int chmods_by_name = 0;
}  // namespace

extern "C" int chmod(const char* path, mode_t mode) {
  ++chmods_by_name;
  return static_cast<int>(::syscall(SYS_fchmodat, AT_FDCWD, path, mode));
}

extern "C" int fchmodat(int dir, const char* path, mode_t mode, int flags) {
  ++chmods_by_name;
  (void)flags;
  return static_cast<int>(::syscall(SYS_fchmodat, dir, path, mode));
}

namespace {

class Umask {
 public:
  explicit Umask(mode_t mask) : saved_(::umask(mask)) {}
  ~Umask() { ::umask(saved_); }
  Umask(const Umask&) = delete;
  Umask& operator=(const Umask&) = delete;

 private:
  mode_t saved_;
};

mode_t mode_of(const std::filesystem::path& path) {
  struct stat st {};
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

// Binds, checks, closes; returns what bind_socket_file() threw, or "".
std::string bind_and_close(const std::filesystem::path& path, mode_t mode) {
  try {
    BoundSocket bound = bind_socket_file(path.native(), mode);
    ::close(bound.fd);
    return {};
  } catch (const StartupError& e) {
    CHECK(e.exit_code == 2);
    return e.what();
  }
}

}  // namespace

TEST_CASE("the socket and its new directory get their modes whatever the umask", "[socket_file]") {
  TempDir dir("rngpool-socket-file");
  const auto socket = dir.path() / "run" / "rngpool.sock";
  Umask narrow(077);
  chmods_by_name = 0;
  REQUIRE(bind_and_close(socket, 0666).empty());
  CHECK(mode_of(socket.parent_path()) == kSocketDirectoryMode);
  CHECK(mode_of(socket) == 0666);
  CHECK(chmods_by_name == 0);

  std::filesystem::remove(socket);
  Umask none(0);
  REQUIRE(bind_and_close(socket, 0600).empty());
  CHECK(mode_of(socket) == 0600);
  CHECK(chmods_by_name == 0);
  CHECK(::umask(0) == 0);  // restored
}

TEST_CASE("a socket directory others may write is refused unless sticky", "[socket_file]") {
  TempDir dir("rngpool-socket-file");
  const auto shared = dir.path() / "shared";
  std::filesystem::create_directory(shared);
  const auto socket = shared / "rngpool.sock";
  for (mode_t mode : {0777, 0775, 0757}) {
    INFO("directory mode " << std::oct << mode);
    REQUIRE(::chmod(shared.c_str(), mode) == 0);
    const std::string refusal = bind_and_close(socket, 0666);
    CHECK_THAT(refusal, Catch::Contains(shared.native()) && Catch::Contains("writable by group or others"));
    CHECK_FALSE(std::filesystem::exists(socket));
  }
  REQUIRE(::chmod(shared.c_str(), 01777) == 0);
  CHECK(bind_and_close(socket, 0666).empty());
  std::filesystem::remove(socket);
  REQUIRE(::chmod(shared.c_str(), 0755) == 0);
  CHECK(bind_and_close(socket, 0666).empty());
}

TEST_CASE("a directory above the socket's that others may write is refused too", "[socket_file]") {
  TempDir dir("rngpool-socket-file");
  const auto shared = dir.path() / "shared";
  const auto mine = shared / "mine";
  std::filesystem::create_directories(mine);
  REQUIRE(::chmod(mine.c_str(), 0755) == 0);
  REQUIRE(::chmod(shared.c_str(), 0777) == 0);  // anyone may rename "mine" away
  const std::string refusal = bind_and_close(mine / "rngpool.sock", 0666);
  CHECK_THAT(refusal, Catch::Contains("directory " + shared.native() + " has mode") &&
                          Catch::Contains("writable by group or others"));
  REQUIRE(::chmod(shared.c_str(), 01777) == 0);  // sticky, as /tmp
  CHECK(bind_and_close(mine / "rngpool.sock", 0666).empty());
}

TEST_CASE("a socket directory owned by another user is refused", "[socket_file]") {
  if (::geteuid() != 0) {
    WARN("skipped: only root can give a directory to another user");
    return;
  }
  TempDir dir("rngpool-socket-file");
  const auto theirs = dir.path() / "theirs";
  std::filesystem::create_directory(theirs);
  REQUIRE(::chown(theirs.c_str(), 65534, 65534) == 0);
  REQUIRE(::chmod(theirs.c_str(), 0755) == 0);
  CHECK_THAT(bind_and_close(theirs / "rngpool.sock", 0666), Catch::Contains("is owned by uid 65534"));
}
