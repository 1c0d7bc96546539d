// rngpool::Error: every failure to obtain randomness, with its cause.
//
// A caller must be able to tell "the daemon refused" (NOT_READY,
// HWRNG_UNAVAILABLE, ...) from "there is no daemon" (an errno), and a person
// reading what() must know what to do next.  There is no silent fallback to
// another source: when rngpoold cannot serve, this is thrown.
#pragma once

#include "rngpool/export.hpp"

#include <stdexcept>
#include <string>

namespace rngpool {

enum class ErrorKind {
  daemon,    // rngpoold answered with a status other than OK: see status_name()
  connect,   // no connection to the socket: see os_error()
  io,        // the connection broke mid-request: see os_error()
  timeout,   // rngpoold did not answer within the I/O timeout
  protocol,  // rngpoold's reply was malformed
};

class RNGPOOL_API Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, std::string status_name, int os_error, const std::string& message);

  ErrorKind kind() const noexcept { return kind_; }
  // "NOT_READY", "HWRNG_UNAVAILABLE", ... for daemon errors; the errno's
  // symbolic name ("ENOENT") for connect and I/O errors; "TIMEOUT" or
  // "PROTOCOL" otherwise.
  const std::string& status_name() const noexcept { return status_name_; }
  int os_error() const noexcept { return os_error_; }  // 0 unless connect/io

 private:
  ErrorKind kind_;
  std::string status_name_;
  int os_error_;
};

}  // namespace rngpool
