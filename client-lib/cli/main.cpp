// rngpool: the command-line client of rngpoold.
//
// main() only maps outcomes to the exit codes documented in --help; the
// commands live in commands.cpp, the parsing in arguments.cpp.
#include "arguments.hpp"
#include "commands.hpp"

#include "rngpool/error.hpp"

#include <cstdio>
#include <exception>
#include <string_view>
#include <system_error>

using namespace rngpool::cli;

static int complain(int code, std::string_view message) {
  // Library messages already say who speaks.
  if (message.starts_with("rngpool: ")) message.remove_prefix(9);
  std::fprintf(stderr, "rngpool: %.*s\n", static_cast<int>(message.size()), message.data());
  if (code == kExitUsage) std::fputs("Try 'rngpool --help'.\n", stderr);
  return code;
}

int main(int argc, char** argv) {
  try {
    const Invocation in = parse_arguments(argc, argv);
    if (in.help) {
      std::fputs(help_text(), stdout);
      return kExitOk;
    }
    if (in.version) {
      std::puts("rngpool " RNGPOOL_VERSION);
      return kExitOk;
    }
    return run_command(in);
  } catch (const UsageError& error) {
    return complain(kExitUsage, error.what());
  } catch (const rngpool::Error& error) {
    return complain(error.kind() == rngpool::ErrorKind::daemon ? kExitRefused : kExitNoDaemon,
                    error.what());
  } catch (const std::invalid_argument& error) {
    return complain(kExitUsage, error.what());
  } catch (const std::system_error& error) {
    return complain(kExitOutput, error.what());
  } catch (const std::exception& error) {
    return complain(kExitUsage, error.what());
  }
}
