// rngpool.so, the OpenSSL 3 provider, driven by real OpenSSL programs (the
// openssl CLI, Python's ssl module, a C program using RAND_*) against the
// real rngpoold.  Every check confirms through the daemon's bytes_served
// that the bytes came from it rather than from OpenSSL's own generator.
#include "rngpool/test/support.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <future>
#include <regex>
#include <sstream>

using namespace rngpool::test;
namespace fs = std::filesystem;

namespace {

const fs::path kBuildDir = RNGPOOL_BUILD_DIR;
const fs::path kSourceDir = RNGPOOL_SOURCE_DIR;
const fs::path kModuleDir = kBuildDir / "ossl-modules";

// An uninstrumented program (/usr/bin/openssl, python3, the test's C
// program) loads a sanitized rngpool.so only with the sanitizer runtimes
// preloaded; so in a sanitized build every command gets them in LD_PRELOAD,
// and the provider runs under ASan/UBSan inside real OpenSSL programs.
std::string runtime_file(const char* name) {
  const CommandResult found = run_command(std::string("gcc -print-file-name=") + name);
  return found.out.substr(0, found.out.find('\n'));
}

const std::string& preload() {
  static const std::string prefix =
      kSanitized ? "LD_PRELOAD=" + shell_quote(runtime_file("libasan.so") + ":" + runtime_file("libubsan.so")) + " "
                 : std::string();
  return prefix;
}

std::uint64_t bytes_served(const std::string& socket) {
  return status_number(status_report(socket), "bytes_served");
}

// An openssl.cnf that loads rngpool (with `provider_keys`) and default, and
// routes the process's generators as `random_keys` say.
fs::path write_config(const fs::path& dir, const std::string& socket, const std::string& random_keys,
                      const std::string& provider_keys = {}) {
  const fs::path path = dir / "openssl.cnf";
  std::ofstream(path) << "openssl_conf = init\n[init]\nproviders = providers\nrandom = random\n"
                      << "[providers]\nrngpool = rngpool_section\ndefault = default_section\n"
                      << "[rngpool_section]\nmodule = " << (kModuleDir / "rngpool.so").native()
                      << "\nsocket = " << socket << "\n" << provider_keys << "activate = 1\n"
                      << "[default_section]\nactivate = 1\n[random]\n" << random_keys;
  return path;
}

const std::string kCtrDrbg = "random = CTR-DRBG\nrandom_properties = provider=rngpool\n";
const std::string kByName = "random = RNGPOOL\n";
// OpenSSL's own DRBG, seeded by ours: the case where a failing instantiate
// would make OpenSSL fall back to the OS silently.
const std::string kSeedSource = "seed = SEED-SRC\nseed_properties = provider=rngpool\n";

CommandResult with_config(const fs::path& config, const std::string& command) {
  return run_command(preload() + "OPENSSL_CONF=" + shell_quote(config.native()) + " " + command);
}

std::size_t hex_digits(const std::string& text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); }));
}

// `openssl rand` loading the provider by name; no openssl.cnf, the socket
// from $RNGPOOL_SOCKET.  Without a property query the first provider wins.
std::string provider_command(const std::string& socket) {
  return preload() + "OPENSSL_CONF=/dev/null RNGPOOL_SOCKET=" + shell_quote(socket) + " openssl rand -provider-path " +
         shell_quote(kModuleDir.native()) + " -provider rngpool -provider default ";
}

// The test program (openssl_rand_client.c), compiled against the system libcrypto.
fs::path build_client(const fs::path& dir) {
  const fs::path program = dir / "openssl_rand_client";
  const std::string command = "gcc -std=c99 -Wall -Wextra -Werror " +
                              shell_quote((kSourceDir / "tests/integration/openssl_rand_client.c").native()) +
                              " -o " + shell_quote(program.native()) + " -lcrypto 2>&1";
  const CommandResult built = run_command(command);
  INFO(command << "\n" << built.out);
  REQUIRE(built.exit_code == 0);
  return program;
}

// The hex a line "<who> <hex>" carries, "" when that draw failed or is missing.
std::string drawn(const std::vector<std::string>& lines, const std::string& who) {
  const std::regex pattern(who + " ([0-9a-f]{64})");
  std::smatch match;
  for (const std::string& line : lines) {
    if (std::regex_match(line, match, pattern)) return match[1];
  }
  return {};
}

}  // namespace

TEST_CASE("openssl provider: openssl rand -provider rngpool draws 32 bytes and 64 KiB from the daemon", "[openssl]") {
  TestDaemon daemon;
  const std::string base = provider_command(daemon.socket_path());
  const std::uint64_t before = bytes_served(daemon.socket_path());
  const CommandResult small = run_command(base + "-hex 32");
  INFO(small.err);
  REQUIRE(small.exit_code == 0);
  CHECK(hex_digits(small.out) == 64);
  CHECK(bytes_served(daemon.socket_path()) >= before + 32);

  const std::uint64_t middle = bytes_served(daemon.socket_path());
  const CommandResult large = run_command(base + "65536 | wc -c");
  INFO(large.err);
  REQUIRE(large.exit_code == 0);
  CHECK(std::stoul(large.out) == 65536);
  // librngpool's local generator (issue 11): each process keys it with one
  // 32-byte daemon request, not one request per byte it prints.
  CHECK(bytes_served(daemon.socket_path()) >= middle + 32);

  // Without it, every byte printed is one the daemon served.
  const std::uint64_t last = bytes_served(daemon.socket_path());
  const CommandResult direct = run_command("RNGPOOL_LOCAL_GENERATOR=0 " + base + "65536 | wc -c");
  INFO(direct.err);
  REQUIRE(direct.exit_code == 0);
  CHECK(std::stoul(direct.out) == 65536);
  CHECK(bytes_served(daemon.socket_path()) >= last + 65536);
}

TEST_CASE("openssl provider: local_generator = no sends every draw to the daemon", "[openssl]") {
  TestDaemon daemon;
  for (const std::string& random_keys : {kCtrDrbg, kByName}) {
    INFO(random_keys);
    const fs::path config = write_config(daemon.dir(), daemon.socket_path(), random_keys, "local_generator = no\n");
    const std::uint64_t before = bytes_served(daemon.socket_path());
    const CommandResult rand = with_config(config, "openssl rand 65536 | wc -c");
    INFO(rand.err);
    REQUIRE(rand.exit_code == 0);
    CHECK(std::stoul(rand.out) == 65536);
    CHECK(bytes_served(daemon.socket_path()) >= before + 65536);
  }
}

TEST_CASE("openssl provider: with OPENSSL_CONF alone, openssl rand and genpkey draw from the daemon", "[openssl]") {
  TestDaemon daemon;
  for (const std::string& random_keys : {kCtrDrbg, kByName})
  for (const std::string& provider_keys : {std::string(), std::string("local_generator = no\n")}) {
    INFO(random_keys << provider_keys);
    const fs::path config = write_config(daemon.dir(), daemon.socket_path(), random_keys, provider_keys);
    std::uint64_t before = bytes_served(daemon.socket_path());
    const CommandResult rand = with_config(config, "openssl rand -hex 32");
    INFO(rand.err);
    REQUIRE(rand.exit_code == 0);
    CHECK(hex_digits(rand.out) == 64);
    CHECK(bytes_served(daemon.socket_path()) >= before + 32);

    before = bytes_served(daemon.socket_path());
    const CommandResult key = with_config(config, "openssl genpkey -algorithm ED25519");
    INFO(key.err);
    REQUIRE(key.exit_code == 0);
    CHECK(key.out.find("BEGIN PRIVATE KEY") != std::string::npos);
    CHECK(bytes_served(daemon.socket_path()) >= before + 32);  // the 32-byte private key
  }
}

TEST_CASE("openssl provider: with OPENSSL_CONF alone, Python's ssl.RAND_bytes draws from the daemon", "[openssl]") {
  TestDaemon daemon;
  // CPython leaves its own allocations to the OS at exit; LSan would count them.
  const std::string leaks = kSanitized ? "ASAN_OPTIONS=detect_leaks=0 " : "";
  const std::string draw = leaks + "python3 -c 'import ssl, sys; sys.stdout.write(ssl.RAND_bytes(100000).hex())'";
  // With the local generator, one 32-byte key per MiB; without, every byte.
  for (const bool local : {true, false}) {
    INFO("local generator " << (local ? "on" : "off"));
    const fs::path config =
        write_config(daemon.dir(), daemon.socket_path(), kCtrDrbg, local ? "" : "local_generator = no\n");
    const std::uint64_t before = bytes_served(daemon.socket_path());
    const CommandResult python = with_config(config, draw);
    INFO(python.err);
    REQUIRE(python.exit_code == 0);
    CHECK(hex_digits(python.out) == 200000);
    CHECK(bytes_served(daemon.socket_path()) >= before + (local ? 32 : 100000));
  }
}

TEST_CASE("openssl provider: with the local generator, every MiB openssl rand prints is under a fresh daemon key", "[openssl]") {
  TestDaemon daemon;
  const fs::path config = write_config(daemon.dir(), daemon.socket_path(), kCtrDrbg);
  const auto requests = [&] { return status_number(status_report(daemon.socket_path()), "requests_served"); };
  const std::uint64_t before = requests();
  const CommandResult rand = with_config(config, "openssl rand 3145728 | wc -c");
  INFO(rand.err);
  REQUIRE(rand.exit_code == 0);
  CHECK(std::stoul(rand.out) == 3145728);
  // Issue 11 §1: a reseed at least every 1 MiB, so 3 MiB take three keys
  // (the first, and one at each MiB boundary) whatever is asked ahead.
  CHECK(requests() >= before + 3);
}

TEST_CASE("openssl provider: a C program's RAND_bytes and RAND_priv_bytes come from the daemon, and a forked child draws different bytes", "[openssl]") {
  TestDaemon daemon;
  const fs::path program = build_client(daemon.dir());
  const fs::path config = write_config(daemon.dir(), daemon.socket_path(), kCtrDrbg);
  for (int round = 0; round < 5; ++round) {
    const std::uint64_t before = bytes_served(daemon.socket_path());
    const CommandResult run = with_config(config, shell_quote(program.native()) + " fork");
    INFO(run.out << run.err);
    REQUIRE(run.exit_code == 0);
    const auto lines = lines_of(run.out);
    const std::string parent = drawn(lines, "parent");
    const std::string child = drawn(lines, "child");
    REQUIRE(!drawn(lines, "public").empty());
    REQUIRE(!drawn(lines, "private").empty());
    REQUIRE(!parent.empty());
    REQUIRE(!child.empty());
    CHECK(parent != child);
    // One key for the parent's local generator, one for the child's (issue 11).
    CHECK(bytes_served(daemon.socket_path()) >= before + 2 * 32);
  }
}

TEST_CASE("openssl provider: with the daemon stopped openssl rand fails with the provider's message, never falling back", "[openssl]") {
  TempDir dir("rngpool-ossl");
  const std::string socket = (dir.path() / "rngpool.sock").native();
  for (const std::string& random_keys : {kCtrDrbg, kByName, kSeedSource}) {
    INFO(random_keys);
    const fs::path config = write_config(dir.path(), socket, random_keys);
    const CommandResult rand = with_config(config, "openssl rand -hex 32");
    INFO(rand.out << rand.err);
    CHECK(rand.exit_code != 0);
    CHECK(hex_digits(rand.out) == 0);
    CHECK(rand.err.find("rngpoold could not provide random bytes") != std::string::npos);
    CHECK(rand.err.find("is rngpoold running?") != std::string::npos);
  }
  const CommandResult loaded = run_command(provider_command(socket) + "-hex 32");
  INFO(loaded.out << loaded.err);
  CHECK(loaded.exit_code != 0);
  CHECK(hex_digits(loaded.out) == 0);
  CHECK(loaded.err.find("is rngpoold running?") != std::string::npos);
}

TEST_CASE("openssl provider: a process whose daemon went away recovers on its next call once the daemon is back", "[openssl]") {
  TempDir dir("rngpool-ossl");
  const std::string socket = (dir.path() / "rngpool.sock").native();
  const fs::path program = build_client(dir.path());
  const fs::path config = write_config(dir.path(), socket, kCtrDrbg);
  auto first = std::make_unique<TestDaemon>(DaemonConfig{.socket_path = socket});
  // Without the local generator, so the draw while the daemon is away fails
  // at once (with it, that draw would be served from a key still within its
  // limits; a reseed that fails is tested in test_client_local.cpp).
  auto run = std::async(std::launch::async, [&] {
    return with_config(config, "RNGPOOL_LOCAL_GENERATOR=0 " + shell_quote(program.native()) + " recover " +
                                   shell_quote(dir.path().native()));
  });
  REQUIRE(eventually([&] { return bytes_served(socket) >= 32; }));
  first->stop();
  std::ofstream(dir.path() / "stopped").put('\n');
  // The stopped draw happens within the program's 10 ms poll; give it time to fail.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  TestDaemon second(DaemonConfig{.socket_path = socket});
  std::ofstream(dir.path() / "restarted").put('\n');
  const CommandResult result = run.get();
  INFO(result.out << result.err);
  const auto lines = lines_of(result.out);
  CHECK(!drawn(lines, "before").empty());
  CHECK(drawn(lines, "stopped").empty());
  CHECK(result.out.find("stopped FAILED") != std::string::npos);
  CHECK(!drawn(lines, "after").empty());
  CHECK(result.exit_code == 0);
  CHECK(bytes_served(socket) >= 32);  // the second daemon served the draw after
}

TEST_CASE("openssl provider: require_hwrng = yes without a hwrng fails with the daemon's HWRNG_UNAVAILABLE", "[openssl]") {
  TestDaemon daemon(DaemonConfig{.hwrng = HwrngFeed::none});
  const fs::path config = write_config(daemon.dir(), daemon.socket_path(), kCtrDrbg, "require_hwrng = yes\n");
  const CommandResult rand = with_config(config, "openssl rand -hex 32");
  INFO(rand.out << rand.err);
  CHECK(rand.exit_code != 0);
  CHECK(hex_digits(rand.out) == 0);
  CHECK(rand.err.find("HWRNG_UNAVAILABLE") != std::string::npos);

  // Without it the same daemon serves.
  const fs::path plain = write_config(daemon.dir(), daemon.socket_path(), kCtrDrbg, "require_hwrng = no\n");
  CHECK(with_config(plain, "openssl rand -hex 32").exit_code == 0);
}

TEST_CASE("openssl provider: prediction_resistance = yes makes the daemon reseed for each draw", "[openssl]") {
  TestDaemon daemon;
  const auto reseeds = [&] { return status_number(status_report(daemon.socket_path()), "reseeds"); };
  const fs::path config =
      write_config(daemon.dir(), daemon.socket_path(), kByName, "prediction_resistance = yes\n");
  const std::uint64_t before = reseeds();
  const CommandResult rand = with_config(config, "openssl rand -hex 32");
  INFO(rand.err);
  REQUIRE(rand.exit_code == 0);
  CHECK(reseeds() >= before + 1);  // PREDICTION_RESISTANCE: reseed before serving
}

TEST_CASE("openssl provider: a provider config value that is not yes or no makes every draw fail, naming it", "[openssl]") {
  TestDaemon daemon;
  const fs::path config = write_config(daemon.dir(), daemon.socket_path(), kCtrDrbg, "require_hwrng = maybe\n");
  const CommandResult rand = with_config(config, "openssl rand -hex 32");
  INFO(rand.out << rand.err);
  CHECK(rand.exit_code != 0);
  CHECK(hex_digits(rand.out) == 0);
  CHECK(rand.err.find("require_hwrng = \"maybe\": expected yes or no") != std::string::npos);

  const fs::path local = write_config(daemon.dir(), daemon.socket_path(), kCtrDrbg, "local_generator = 0\n");
  const CommandResult other = with_config(local, "openssl rand -hex 32");
  INFO(other.out << other.err);
  CHECK(other.exit_code != 0);
  CHECK(hex_digits(other.out) == 0);
  CHECK(other.err.find("local_generator = \"0\": expected yes or no") != std::string::npos);
}

TEST_CASE("openssl provider: local_cipher chooses the generator's cipher, and a value it does not know fails every draw", "[openssl]") {
  TestDaemon daemon;
  for (const std::string cipher : {"aes-256-ctr", "chacha20"}) {
    INFO(cipher);
    const fs::path config = write_config(daemon.dir(), daemon.socket_path(), kCtrDrbg, "local_cipher = " + cipher + "\n");
    const std::uint64_t before = bytes_served(daemon.socket_path());
    const CommandResult rand = with_config(config, "openssl rand 65536 | wc -c");
    INFO(rand.err);
    REQUIRE(rand.exit_code == 0);
    CHECK(std::stoul(rand.out) == 65536);
    CHECK(bytes_served(daemon.socket_path()) >= before + 32);
  }
  const fs::path bad = write_config(daemon.dir(), daemon.socket_path(), kCtrDrbg, "local_cipher = aes\n");
  const CommandResult rand = with_config(bad, "openssl rand -hex 32");
  INFO(rand.out << rand.err);
  CHECK(rand.exit_code != 0);
  CHECK(hex_digits(rand.out) == 0);
  CHECK(rand.err.find("local_cipher = \"aes\": expected aes-256-ctr or chacha20") != std::string::npos);
}

namespace {

std::string replace_once(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  if (at == std::string::npos) throw std::runtime_error("README block lacks " + from);
  return text.replace(at, from.size(), to);
}

}  // namespace

TEST_CASE("openssl provider: README: the commands and openssl.cnf under OpenSSL programs work as written", "[openssl][readme]") {
  TestDaemon daemon;
  const std::string readme = read_text_file(kSourceDir / "README.md");
  // Only the module's location and the socket are substituted.
  const std::string ini = replace_once(
      replace_once(fenced_block(readme, "## OpenSSL programs", "ini"), "module = rngpool.so",
                   "module = " + (kModuleDir / "rngpool.so").native()),
      "/run/rngpool/rngpool.sock", daemon.socket_path());
  const fs::path config = daemon.dir() / "readme.cnf";
  std::ofstream(config) << ini;
  std::uint64_t before = bytes_served(daemon.socket_path());
  const CommandResult configured = with_config(config, "openssl rand -hex 32");
  INFO(ini << configured.err);
  REQUIRE(configured.exit_code == 0);
  CHECK(hex_digits(configured.out) == 64);
  CHECK(bytes_served(daemon.socket_path()) >= before + 32);

  const std::string command = replace_once(fenced_block(readme, "## OpenSSL programs", "sh"),
                                           "build/ossl-modules", shell_quote(kModuleDir.native()));
  before = bytes_served(daemon.socket_path());
  const CommandResult loaded = run_command("cd " + shell_quote(kBuildDir.native()) + " && " + preload() + "OPENSSL_CONF=/dev/null RNGPOOL_SOCKET=" +
                                           shell_quote(daemon.socket_path()) + " " + command);
  INFO(command << loaded.err);
  REQUIRE(loaded.exit_code == 0);
  CHECK(hex_digits(loaded.out) == 64);
  CHECK(bytes_served(daemon.socket_path()) >= before + 32);
}

TEST_CASE("openssl provider: cmake --install --component openssl puts rngpool.so in OpenSSL's modules directory", "[openssl][install]") {
  TempDir root("rngpool-ossl");
  const CommandResult modulesdir = run_command("pkg-config --variable=modulesdir libcrypto");
  REQUIRE(modulesdir.exit_code == 0);
  const std::string dir = modulesdir.out.substr(0, modulesdir.out.find('\n'));
  REQUIRE(!dir.empty());
  const CommandResult installed = run_command("DESTDIR=" + shell_quote(root.path().native()) + " cmake --install " +
                                              shell_quote(kBuildDir.native()) + " --component openssl 2>&1");
  INFO(installed.out);
  REQUIRE(installed.exit_code == 0);
  const fs::path module = root.path() / fs::path(dir).relative_path() / "rngpool.so";
  REQUIRE(fs::is_regular_file(module));
  // Only the entry point is exported; librngpool comes from its shared library.
  const CommandResult symbols = run_command("nm -D --defined-only " + shell_quote(module.native()));
  CHECK(symbols.out.find("OSSL_provider_init") != std::string::npos);
  CHECK(std::count(symbols.out.begin(), symbols.out.end(), '\n') == 1);
  CHECK(run_command("readelf -d " + shell_quote(module.native()) + " | grep -q 'librngpool.so.0'").exit_code == 0);
}
