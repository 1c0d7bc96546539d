// Runs a shell command and collects its output, for tests of command-line
// behaviour (exit codes, messages) and of external tools (nc, systemd-analyze).
#pragma once

#include <string>
#include <string_view>

namespace rngpool::test {

struct CommandResult {
  int exit_code;  // the exit status, or 128 + signal number when killed
  std::string out;
  std::string err;
};

// Runs `/bin/sh -c shell_command` with stdin_data on its stdin (then closed).
// The systemd variables (NOTIFY_SOCKET, LISTEN_FDS, ...) of the test's own
// environment are not passed on, so a test run under systemd stays isolated.
CommandResult run_command(const std::string& shell_command, std::string_view stdin_data = {});

// Quotes an argument for /bin/sh.
std::string shell_quote(std::string_view argument);

}  // namespace rngpool::test
