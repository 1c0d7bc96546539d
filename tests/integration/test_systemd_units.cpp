// The systemd files as `cmake --install` puts them, checked by systemd's own
// tools: `systemd-analyze verify` silent, `security --offline` at most 1.0.
#include "rngpool/test/support.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <regex>
#include <sstream>

using namespace rngpool::test;
namespace fs = std::filesystem;

namespace {

// The build's systemd component installed under a DESTDIR.
struct InstalledUnits {
  TempDir root{"rngpool-units"};
  fs::path service, socket, egd_socket, metrics_socket, sysusers, udev_rule;

  InstalledUnits() {
    auto result = run_command("DESTDIR=" + shell_quote(root.path().native()) + " cmake --install " +
                              shell_quote(RNGPOOL_BUILD_DIR) + " --component systemd");
    INFO(result.out << result.err);
    REQUIRE(result.exit_code == 0);
    for (const auto& entry : fs::recursive_directory_iterator(root.path())) {
      auto name = entry.path().filename();
      if (name == "rngpoold.service") service = entry.path();
      if (name == "rngpoold.socket") socket = entry.path();
      if (name == "rngpoold-egd.socket") egd_socket = entry.path();
      if (name == "rngpoold-metrics.socket") metrics_socket = entry.path();
      if (name == "rngpool.conf") sysusers = entry.path();
      if (name == "60-rngpool-hwrng.rules") udev_rule = entry.path();
    }
  }
};

void require_tool(const char* tool) {
  // scripts/deps.sh installs systemd; CI without it must fail, not pass.
  INFO(tool << " is missing: install the systemd package");
  REQUIRE(run_command(std::string("command -v ") + tool).exit_code == 0);
}

// The service with ExecStart pointing at the daemon in this build, since
// verify insists that the binary exists and the install prefix has none.
fs::path service_for_verify(const InstalledUnits& units, const fs::path& dir) {
  std::string text = read_text_file(units.service);
  std::string installed = std::string("ExecStart=") + RNGPOOL_INSTALL_SBINDIR + "/rngpoold";
  auto at = text.find(installed);
  REQUIRE(at != std::string::npos);
  REQUIRE_FALSE(rngpoold_path().empty());
  text.replace(at, installed.size(), "ExecStart=" + rngpoold_path());
  fs::create_directories(dir);
  std::ofstream(dir / "rngpoold.service") << text;
  fs::copy_file(units.socket, dir / "rngpoold.socket");
  fs::copy_file(units.egd_socket, dir / "rngpoold-egd.socket");
  fs::copy_file(units.metrics_socket, dir / "rngpoold-metrics.socket");
  return dir / "rngpoold.service";
}

}  // namespace

TEST_CASE("cmake --install puts the units where systemd and udev look", "[systemd]") {
  InstalledUnits units;
  CHECK(units.service.native().ends_with("/systemd/system/rngpoold.service"));
  CHECK(units.socket.native().ends_with("/systemd/system/rngpoold.socket"));
  CHECK(units.egd_socket.native().ends_with("/systemd/system/rngpoold-egd.socket"));
  CHECK(units.metrics_socket.native().ends_with("/systemd/system/rngpoold-metrics.socket"));
  CHECK(units.sysusers.native().ends_with("/sysusers.d/rngpool.conf"));
  CHECK(units.udev_rule.native().ends_with("/udev/rules.d/60-rngpool-hwrng.rules"));
}

TEST_CASE("the socket unit listens where the daemon's default socket is", "[systemd]") {
  InstalledUnits units;
  auto text = read_text_file(units.socket);
  CHECK_THAT(text, Catch::Contains("\nListenStream=/run/rngpool/rngpool.sock\n"));
  CHECK_THAT(text, Catch::Contains("\nSocketMode=0666\n"));
}

TEST_CASE("the EGD socket unit feeds the same service under the name the daemon looks for", "[systemd][egd]") {
  InstalledUnits units;
  auto text = read_text_file(units.egd_socket);
  for (const char* line : {"ListenStream=/run/rngpool/egd.sock", "FileDescriptorName=egd", "Service=rngpoold.service"})
    CHECK_THAT(text, Catch::Contains(std::string("\n") + line + "\n"));
}

// systemd refuses to start a socket whose service is running, so an enabled
// optional socket must come up through the service's restart
// (tests/system/guest-main, sockets-enable, runs it under a real systemd).
TEST_CASE("the EGD and metrics sockets, once enabled, are started by a restart of the service", "[systemd][egd][metrics]") {
  InstalledUnits units;
  for (const auto& unit : {units.egd_socket, units.metrics_socket})
    CHECK_THAT(read_text_file(unit), Catch::Contains("\nWantedBy=sockets.target rngpoold.service\n"));
}

TEST_CASE("the service is Type=notify with a watchdog, as the non-root user", "[systemd]") {
  InstalledUnits units;
  auto text = read_text_file(units.service);
  for (const char* line : {"Type=notify", "NotifyAccess=main", "Restart=on-failure", "User=rngpool",
                           "PrivateDevices=yes", "DeviceAllow=/dev/hwrng r", "BindReadOnlyPaths=-/dev/hwrng"})
    CHECK_THAT(text, Catch::Contains(std::string("\n") + line + "\n"));
  CHECK(std::regex_search(text, std::regex("\nWatchdogSec=[1-9]")));
}

TEST_CASE("systemctl reload sends the daemon SIGHUP", "[systemd]") {
  InstalledUnits units;
  CHECK_THAT(read_text_file(units.service), Catch::Contains("\nExecReload=/bin/kill -HUP $MAINPID\n"));
}

TEST_CASE("the metrics socket passes a loopback TCP socket named metrics to the service", "[systemd][metrics]") {
  InstalledUnits units;
  const std::string text = read_text_file(units.metrics_socket);
  CHECK_THAT(text, Catch::Contains("\nListenStream=127.0.0.1:10180\n"));
  CHECK_THAT(text, Catch::Contains("\nFileDescriptorName=metrics\n"));
  CHECK_THAT(text, Catch::Contains("\nService=rngpoold.service\n"));
}

TEST_CASE("systemd-analyze verify prints nothing", "[systemd]") {
  require_tool("systemd-analyze");
  InstalledUnits units;
  auto service = service_for_verify(units, units.root.path() / "verify");
  auto result = run_command("cd " + shell_quote(service.parent_path().native()) +
                            " && systemd-analyze verify --man=no ./rngpoold.socket ./rngpoold-egd.socket "
                            "./rngpoold-metrics.socket ./rngpoold.service");
  CHECK(result.exit_code == 0);
  CHECK(result.out == "");
  CHECK(result.err == "");
}

TEST_CASE("systemd-analyze security scores the service at most 1.0", "[systemd]") {
  require_tool("systemd-analyze");
  InstalledUnits units;
  auto service = service_for_verify(units, units.root.path() / "verify");
  auto result = run_command("systemd-analyze security --offline=yes --no-pager " + shell_quote(service.native()));
  INFO(result.out << result.err);
  std::smatch match;
  REQUIRE(std::regex_search(result.out, match, std::regex(R"(Overall exposure level for rngpoold\.service: ([0-9.]+))")));
  double exposure = std::stod(match[1].str());
  WARN("systemd-analyze security exposure: " << exposure);
  CHECK(exposure <= 1.0);
}

TEST_CASE("the sysusers.d entry creates user and group rngpool", "[systemd]") {
  require_tool("systemd-sysusers");
  InstalledUnits units;
  TempDir root("rngpool-sysusers");
  fs::create_directories(root.path() / "etc");
  auto result = run_command("systemd-sysusers --dry-run --root=" + shell_quote(root.path().native()) + " " +
                            shell_quote(units.sysusers.native()));
  INFO(result.out << result.err);
  CHECK(result.exit_code == 0);
  CHECK(std::regex_search(result.out + result.err, std::regex("group 'rngpool'")));
  CHECK(std::regex_search(result.out + result.err, std::regex("user 'rngpool'")));
}

TEST_CASE("the udev rule gives group rngpool read access to hwrng", "[systemd]") {
  InstalledUnits units;
  auto text = read_text_file(units.udev_rule);
  CHECK_THAT(text, Catch::Contains("KERNEL==\"hw_random\""));
  CHECK_THAT(text, Catch::Contains("GROUP=\"rngpool\""));
  CHECK_THAT(text, Catch::Contains("MODE=\"0640\""));
}
