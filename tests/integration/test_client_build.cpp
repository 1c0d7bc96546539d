// librngpool as others build against it: a C program, and an installed package
// consumed through find_package(rngpool) and through pkg-config.
#include "rngpool/test/support.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <regex>

using namespace rngpool::test;
namespace fs = std::filesystem;

namespace {

// Not __FILE__: with ccache's base_dir it is relative to the build directory,
// and the tests run elsewhere.
const fs::path kSourceDir = RNGPOOL_SOURCE_DIR;
const fs::path kBuildDir = RNGPOOL_BUILD_DIR;

// A consumer of an instrumented library must be instrumented too.
std::string sanitizer_flags() { return kSanitized ? " -fsanitize=address,undefined" : ""; }

void write_file(const fs::path& path, std::string_view text) { std::ofstream(path) << text; }

// Runs a build step, failing the test with its output.
void build_step(const std::string& command) {
  const CommandResult result = run_command(command + " 2>&1");
  INFO(command << "\n" << result.out << result.err);
  REQUIRE(result.exit_code == 0);
}

constexpr std::string_view kCProgram = R"(#include <rngpool/rngpool.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char** argv) {
  rngpool_client* client = rngpool_open(argc > 1 ? argv[1] : NULL);
  unsigned char bytes[16];
  uint64_t below = 0;
  char hex[33], url[23], status[8192];
  size_t needed = 0;
  if (!client) return 10;
  if (rngpool_bytes(client, bytes, sizeof bytes) != RNGPOOL_OK) return 11;
  if (rngpool_randbelow(client, 6, &below) != RNGPOOL_OK || below >= 6) return 12;
  if (rngpool_token_hex(client, 16, hex, sizeof hex) != RNGPOOL_OK || strlen(hex) != 32) return 13;
  if (rngpool_token_urlsafe(client, 16, url, sizeof url) != RNGPOOL_OK || strlen(url) != 22) return 14;
  if (rngpool_status(client, status, sizeof status, &needed) != RNGPOOL_OK || !strstr(status, "state: ")) return 15;
  if (rngpool_randbelow(client, 0, &below) != RNGPOOL_E_INVALID) return 16;
  printf("%s %s %llu\n", hex, url, (unsigned long long)below);
  rngpool_close(client);

  client = rngpool_open("/nonexistent/rngpool.sock");
  /* n = 0 is a no-op, like read(2): no request, so no connection either. */
  if (rngpool_bytes(client, NULL, 0) != RNGPOOL_OK || rngpool_bytes(client, bytes, 0) != RNGPOOL_OK) return 18;
  if (rngpool_bytes(NULL, bytes, 0) != RNGPOOL_E_INVALID || rngpool_bytes(client, NULL, 1) != RNGPOOL_E_INVALID) return 19;
  if (rngpool_bytes(client, bytes, sizeof bytes) != RNGPOOL_E_CONNECT) return 17;
  printf("%s | %s\n", rngpool_strerror(RNGPOOL_E_CONNECT), rngpool_last_error());
  rngpool_close(client);
  return 0;
}
)";

constexpr std::string_view kCxxConsumer = R"(#include <rngpool/rngpool.hpp>
#include <iostream>

int main(int argc, char** argv) {
  rngpool::Client client(argv[1]);
  std::string token = client.token_hex(16);
  std::cout << token << " " << rngpool::compare_digest(token, token) << "\n";
}
)";

constexpr std::string_view kConsumerCMake = R"(cmake_minimum_required(VERSION 3.25)
project(consumer CXX)
find_package(rngpool 0.1 REQUIRED)
add_executable(consumer main.cpp)
target_link_libraries(consumer PRIVATE rngpool::client)
add_executable(consumer_static main.cpp)
target_link_libraries(consumer_static PRIVATE rngpool::client_static)
)";

void check_token_line(const std::string& out) {
  INFO(out);
  REQUIRE(out.size() == 32 + 3);
  CHECK(out.substr(0, 32).find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(out.substr(32) == " 1\n");
}

// cmake --install of the client component into a fresh prefix.
fs::path install_client(const TempDir& dir) {
  const fs::path prefix = dir.path() / "prefix";
  build_step("cmake --install " + shell_quote(kBuildDir.native()) + " --component client --prefix " +
             shell_quote(prefix.native()));
  return prefix;
}

}  // namespace

TEST_CASE("client: a C program compiled as C uses rngpool.h", "[client][c]") {
  const fs::path library = kBuildDir / "client-lib" / "librngpool.so";
  INFO("needs the shared library " << library << " (target rngpool_client)");
  REQUIRE(fs::exists(library));
  TestDaemon daemon;
  TempDir dir("rngpool-c");
  write_file(dir.path() / "prog.c", kCProgram);
  const fs::path program = dir.path() / "prog";
  build_step("gcc -x c -std=c99 -Wall -Wextra -Werror" + sanitizer_flags() + " -I" +
             shell_quote((kSourceDir / "client-lib" / "include").native()) + " " +
             shell_quote((dir.path() / "prog.c").native()) + " -o " + shell_quote(program.native()) + " -L" +
             shell_quote(library.parent_path().native()) + " -lrngpool -Wl,-rpath," +
             shell_quote(library.parent_path().native()));
  const CommandResult result = run_command(shell_quote(program.native()) + " " + shell_quote(daemon.socket_path()));
  INFO(result.out << result.err);
  REQUIRE(result.exit_code == 0);
  CHECK_THAT(result.out, Catch::Contains("cannot connect to rngpoold | cannot connect to /nonexistent/rngpool.sock"));
}

// Issue 9, item 14: the C API's copies of a token were freed unwiped.  The
// program replaces operator delete to keep every block the library frees
// (its contents as they were at the free), then looks for the tokens there.
constexpr std::string_view kFreedTokens = R"(#include <rngpool/rngpool.h>
#include <malloc.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

static char graveyard[1 << 20];
static size_t buried = 0;

static void bury(void* p) {
  if (!p) return;
  const size_t n = malloc_usable_size(p);
  if (buried + n <= sizeof graveyard) {
    std::memcpy(graveyard + buried, p, n);
    buried += n;
  }
  std::free(p);
}
void operator delete(void* p) noexcept { bury(p); }
void operator delete(void* p, std::size_t) noexcept { bury(p); }

static bool freed_unwiped(const char* token) {
  return memmem(graveyard, buried, token, std::strlen(token)) != nullptr;
}

int main(int, char** argv) {
  rngpool_client* client = rngpool_open(argv[1]);
  char hex[65], url[44];
  if (rngpool_token_hex(client, 32, hex, sizeof hex) != RNGPOOL_OK) return 10;
  if (rngpool_token_urlsafe(client, 32, url, sizeof url) != RNGPOOL_OK) return 11;
  rngpool_close(client);
  if (buried == 0) return 12;  // the replacement never ran: the test would prove nothing
  std::printf("hex %s, urlsafe %s\n", freed_unwiped(hex) ? "freed unwiped" : "wiped",
              freed_unwiped(url) ? "freed unwiped" : "wiped");
  return 0;
}
)";

TEST_CASE("client: the C API wipes its copies of a token before freeing them", "[client][c]") {
  if (kSanitized) {
    WARN("not run: a sanitizer build owns operator delete, which this test replaces");
    return;
  }
  const fs::path library = kBuildDir / "client-lib" / "librngpool.so";
  REQUIRE(fs::exists(library));
  TestDaemon daemon;
  TempDir dir("rngpool-wipe");
  write_file(dir.path() / "prog.cpp", kFreedTokens);
  const fs::path program = dir.path() / "prog";
  build_step("g++ -std=c++20 -Wall -Wextra -Werror -I" + shell_quote((kSourceDir / "client-lib" / "include").native()) +
             " " + shell_quote((dir.path() / "prog.cpp").native()) + " -o " + shell_quote(program.native()) + " -L" +
             shell_quote(library.parent_path().native()) + " -lrngpool -Wl,-rpath," +
             shell_quote(library.parent_path().native()));
  const CommandResult result = run_command(shell_quote(program.native()) + " " + shell_quote(daemon.socket_path()));
  INFO(result.out << result.err);
  REQUIRE(result.exit_code == 0);
  CHECK(result.out == "hex wiped, urlsafe wiped\n");
}

// README's "Using it from code" block, as a reader would paste it into main().
TEST_CASE("client: the README's code example compiles and runs", "[client][readme]") {
  const fs::path library = kBuildDir / "client-lib" / "librngpool.so";
  REQUIRE(fs::exists(library));
  const std::string snippet =
      fenced_block(read_text_file(kSourceDir / "README.md"), "## Using it from code", "cpp");
  const auto includes_end = snippet.rfind("#include");
  const auto body_start = snippet.find('\n', includes_end) + 1;
  const std::string program = snippet.substr(0, body_start) + "#include <iostream>\nint main() {\n" +
                              snippet.substr(body_start) +
                              "  std::cout << session << ' ' << key.size() << ' ' << die << ' ' << pw << '\\n';\n}\n";

  TestDaemon daemon;
  TempDir dir("rngpool-readme");
  write_file(dir.path() / "main.cpp", program);
  const fs::path binary = dir.path() / "example";
  build_step("g++ -std=c++20 -Wall -Wextra -Werror" + sanitizer_flags() + " -I" +
             shell_quote((kSourceDir / "client-lib" / "include").native()) + " " +
             shell_quote((dir.path() / "main.cpp").native()) + " -o " + shell_quote(binary.native()) + " -L" +
             shell_quote(library.parent_path().native()) + " -lrngpool -Wl,-rpath," +
             shell_quote(library.parent_path().native()));
  const CommandResult result =
      run_command("RNGPOOL_SOCKET=" + shell_quote(daemon.socket_path()) + " " + shell_quote(binary.native()));
  INFO(program << "\n" << result.out << result.err);
  REQUIRE(result.exit_code == 0);
  CHECK(std::regex_match(result.out, std::regex("[A-Za-z0-9_-]{43} 32 [1-6] \\S{20}\n")));
}

TEST_CASE("client: the installed package builds a consumer with find_package(rngpool)", "[client][install]") {
  TestDaemon daemon;
  TempDir dir("rngpool-inst");
  const fs::path prefix = install_client(dir);
  CHECK(fs::exists(prefix / "include" / "rngpool" / "rngpool.h"));
  const fs::path source = dir.path() / "consumer";
  fs::create_directories(source);
  write_file(source / "CMakeLists.txt", kConsumerCMake);
  write_file(source / "main.cpp", kCxxConsumer);
  const fs::path build = dir.path() / "build";
  build_step("cmake -S " + shell_quote(source.native()) + " -B " + shell_quote(build.native()) +
             " -G Ninja -DCMAKE_PREFIX_PATH=" + shell_quote(prefix.native()) +
             " -DCMAKE_CXX_FLAGS=" + shell_quote(sanitizer_flags()));
  build_step("cmake --build " + shell_quote(build.native()));
  for (const char* name : {"consumer", "consumer_static"}) {
    INFO(name);
    const CommandResult result = run_command(shell_quote((build / name).native()) + " " + shell_quote(daemon.socket_path()));
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    check_token_line(result.out);
  }
}

TEST_CASE("client: the installed package builds a consumer with pkg-config", "[client][install]") {
  TestDaemon daemon;
  TempDir dir("rngpool-pc");
  const fs::path prefix = install_client(dir);
  const fs::path main = dir.path() / "main.cpp";
  write_file(main, kCxxConsumer);
  const fs::path program = dir.path() / "consumer";
  const std::string pc_path = "PKG_CONFIG_PATH=" + shell_quote((prefix / "lib" / "pkgconfig").native()) + ":" +
                              shell_quote((prefix / "lib" / "x86_64-linux-gnu" / "pkgconfig").native());
  build_step(pc_path + " pkg-config --exists --print-errors rngpool");
  build_step("g++ -std=c++20" + sanitizer_flags() + " " + shell_quote(main.native()) + " -o " +
             shell_quote(program.native()) + " $(" + pc_path + " pkg-config --cflags --libs rngpool)" +
             " -Wl,-rpath,$(" + pc_path + " pkg-config --variable=libdir rngpool)");
  const CommandResult result = run_command(shell_quote(program.native()) + " " + shell_quote(daemon.socket_path()));
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  check_token_line(result.out);
}
