// The rngpool command line, parsed by hand: a dozen options do not need a framework.
#pragma once

#include "rngpool/client.hpp"

#include <optional>
#include <stdexcept>
#include <string>

namespace rngpool::cli {

// Exit codes, documented in --help.
inline constexpr int kExitOk = 0;
inline constexpr int kExitRefused = 1;  // the daemon said no
inline constexpr int kExitUsage = 2;
inline constexpr int kExitNoDaemon = 3;  // cannot connect / talk to the daemon
inline constexpr int kExitOutput = 4;    // cannot write the output

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Invocation {
  bool help = false;
  bool version = false;
  std::string socket;  // empty: $RNGPOOL_SOCKET, else the system socket
  bool require_hwrng = false;
  bool force = false;
  std::string command;
  std::optional<std::uint64_t> count;  // N of bytes/hex/base64/urlsafe/int
  PasswordPolicy policy;
  std::size_t words = kDefaultPassphraseWords;
  std::string wordlist;
  std::string separator = " ";
};

// Throws UsageError with a message for the person who typed it.
Invocation parse_arguments(int argc, char** argv);
const char* help_text();

}  // namespace rngpool::cli
