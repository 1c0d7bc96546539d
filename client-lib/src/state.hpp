// Client::State: where a Client's bytes come from.
//
// Two kinds: the daemon (DaemonLink) and, for tests, a caller's ByteSource.
// Everything above this line (tokens, randbelow, shuffle, passwords) is the
// same code for both, so the unit tests exercise what users run.
#pragma once

#include "rngpool/client.hpp"

namespace rngpool {

class Client::State {
 public:
  virtual ~State() = default;
  virtual const std::string& socket_path() const noexcept = 0;
  virtual void fill(std::span<std::uint8_t> out, RequestFlags flags) = 0;
  virtual StatusReport status() = 0;
  virtual Health health() = 0;
  virtual std::chrono::nanoseconds ping() = 0;
};

}  // namespace rngpool
