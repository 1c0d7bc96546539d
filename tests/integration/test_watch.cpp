// rngpool watch (issue 15 §2) in a real terminal: tmux runs it in a detached
// session, capture-pane reads the screen, send-keys types q or Ctrl-C.  The screen
// shows the health line and follows the daemon when its hwrng fails; q
// leaves the alternate screen and exits 0.  Without a terminal it prints a
// line per second.
#include "rngpool/test/support.hpp"

#include <catch2/catch.hpp>

#include <memory>

using namespace rngpool::test;
using namespace std::chrono_literals;

namespace {

// A tmux server of our own (-L), killed with everything in it at the end.
struct Tmux {
  std::string server;
  explicit Tmux(const TempDir& dir) : server("rngpool-" + dir.path().filename().native()) {
    REQUIRE(run_command("command -v tmux").exit_code == 0);  // scripts/deps.sh installs it
  }
  ~Tmux() { run_command(tmux("kill-server")); }
  std::string tmux(const std::string& args) const { return "tmux -L " + shell_quote(server) + " " + args; }
  void start(const std::string& command) const {
    const auto result = run_command(tmux("new-session -d -x 100 -y 30 " + shell_quote(command)));
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
  }
  std::string screen() const { return run_command(tmux("capture-pane -p")).out; }
  bool shows(const std::string& text, std::chrono::milliseconds timeout = 10s) const {
    return eventually([&] { return screen().find(text) != std::string::npos; }, timeout, 100ms);
  }
  void keys(const std::string& keys) const { REQUIRE(run_command(tmux("send-keys " + keys)).exit_code == 0); }
};

}  // namespace

TEST_CASE("rngpool watch in tmux shows the health line, follows a failing hwrng, and quits on q", "[cli][watch]") {
  TempDir dir{"rngpool-watch"};
  auto feeder = std::make_unique<FifoFeeder>(dir.path() / "hwrng", FifoFeeder::random_bytes());
  TestDaemon daemon({.hwrng = HwrngFeed::path, .hwrng_path = feeder->path()});
  REQUIRE(eventually([&] { return status_value(status_report(daemon.socket_path()), "state") == "ready"; }));

  Tmux tmux(dir);
  tmux.start(shell_quote(rngpool_cli_path()) + " --socket " + shell_quote(daemon.socket_path()) +
             " watch; echo EXIT=$?; sleep 60");
  INFO(tmux.screen());
  CHECK(tmux.shows("health:   OK"));
  CHECK(tmux.shows("hwrng: " + feeder->path().native() + " ok"));
  CHECK(tmux.shows("(q quits)"));

  feeder.reset();  // the FIFO's writer goes: the daemon reads EOF, the hwrng is gone
  CHECK(tmux.shows("health:   DEGRADED hwrng"));
  const std::string degraded = tmux.screen();
  INFO(degraded);
  CHECK_THAT(degraded, !Catch::Contains("health:   OK"));

  tmux.keys("q");
  CHECK(tmux.shows("EXIT=0"));
  CHECK_THAT(tmux.screen(), !Catch::Contains("(q quits)"));  // the alternate screen is gone
}

TEST_CASE("rngpool watch in tmux quits on Ctrl-C and leaves the terminal as it found it", "[cli][watch]") {
  TempDir dir{"rngpool-watch"};
  TestDaemon daemon({.hwrng = HwrngFeed::none});
  Tmux tmux(dir);
  tmux.start(shell_quote(rngpool_cli_path()) + " --socket " + shell_quote(daemon.socket_path()) +
             " watch; echo EXIT=$?; sleep 60");
  INFO(tmux.screen());
  REQUIRE(tmux.shows("(q quits)"));
  tmux.keys("C-c");  // the terminal's SIGINT, as a person at the keyboard sends it
  CHECK(tmux.shows("EXIT=0"));
  CHECK_THAT(tmux.screen(), !Catch::Contains("(q quits)"));  // the alternate screen is gone
}

TEST_CASE("rngpool watch without a terminal prints one line a second", "[cli][watch]") {
  TestDaemon daemon({.hwrng = HwrngFeed::none});
  // -k: a watch that ignored the INT is killed 5 s later, so the checks
  // below report it (exit 137) instead of the test hitting CTest's timeout.
  const auto result = run_command("timeout --preserve-status -k 5 -s INT 2.5 " + shell_quote(rngpool_cli_path()) + " --socket " +
                                  shell_quote(daemon.socket_path()) + " watch");
  INFO(result.out << result.err);
  CHECK(result.exit_code == 0);  // Ctrl-C (SIGINT) is a normal end
  CHECK(std::count(result.out.begin(), result.out.end(), '\n') >= 2);
  CHECK(std::count(result.out.begin(), result.out.end(), '\n') <= 4);
  CHECK_THAT(result.out, Catch::Contains(" DEGRADED hwrng absent: --hwrng none"));
  CHECK_THAT(result.out, !Catch::Contains("\x1b["));  // no escapes into a pipe
}

TEST_CASE("rngpool watch stops on SIGINT even when started with SIGINT blocked", "[cli][watch]") {
  // A supervisor or a shell's background job can hand its children a signal
  // mask that blocks SIGINT; exec keeps the mask, so a handler alone would
  // never run.  Python blocks it here and execs the CLI.
  TestDaemon daemon({.hwrng = HwrngFeed::none});
  const std::string blocked_exec =
      "python3 -c 'import os, signal, sys; signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT}); "
      "os.execv(sys.argv[1], sys.argv[1:])' ";
  const auto result = run_command("timeout --preserve-status -k 5 -s INT 2.5 " + blocked_exec +
                                  shell_quote(rngpool_cli_path()) + " --socket " + shell_quote(daemon.socket_path()) +
                                  " watch");
  INFO(result.out << result.err);
  CHECK(result.exit_code == 0);  // 137: it ran on until the KILL
  CHECK(std::count(result.out.begin(), result.out.end(), '\n') <= 4);
}
