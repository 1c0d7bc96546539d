// rngpool::Error and the wording of its messages.
#include "rngpool/error.hpp"

#include "error_text.hpp"

#include <cerrno>
#include <cstring>

namespace rngpool {

Error::Error(ErrorKind kind, std::string status_name, int os_error, const std::string& message)
    : std::runtime_error(message), kind_(kind), status_name_(std::move(status_name)),
      os_error_(os_error) {}

namespace detail {

// ---------------------------------------------------------------------------
// Naming an errno
//
// The symbolic name ("ENOENT") is what a program compares; strerror's text is
// what a person reads.  Both go into the Error.
// ---------------------------------------------------------------------------

std::string errno_name(int err) {
  const char* name = strerrorname_np(err);
  return name ? name : "E" + std::to_string(err);
}

std::string errno_text(int err) {
  char buffer[256];
  return strerror_r(err, buffer, sizeof buffer);  // GNU strerror_r returns the text
}

// What a person can do about a failed connect, by cause.
static const char* connect_hint(int err) {
  switch (err) {
    case ENOENT:
    case ECONNREFUSED:
      return "is rngpoold running?";
    case EACCES:
    case EPERM:
      return "is your user allowed to use this socket (group rngpool)?";
    case ENAMETOOLONG:
      return "use a shorter socket path";
    default:
      return "check $RNGPOOL_SOCKET and that rngpoold is running";
  }
}

Error connect_error(const std::string& path, int err) {
  return Error(ErrorKind::connect, errno_name(err), err,
               "cannot connect to " + path + ": " + errno_text(err) + " \u2014 " + connect_hint(err));
}

Error io_error(const std::string& path, int err) {
  if (err == 0) {
    return Error(ErrorKind::io, "EOF", 0, "rngpoold at " + path + " closed the connection");
  }
  return Error(ErrorKind::io, errno_name(err), err,
               "connection to rngpoold at " + path + " broke: " + errno_text(err));
}

Error timeout_error(const std::string& path, std::chrono::milliseconds limit) {
  return Error(ErrorKind::timeout, "TIMEOUT", 0,
               "rngpoold at " + path + " did not answer within " + std::to_string(limit.count()) +
                   " ms \u2014 is it overloaded or stopped?");
}

Error protocol_error(const std::string& path, const std::string& reason) {
  return Error(ErrorKind::protocol, "PROTOCOL", 0,
               "malformed reply from rngpoold at " + path + ": " + reason +
                   " \u2014 are client and daemon the same version?");
}

// What a person can do about a refusal, by status.
static std::string daemon_hint(std::string_view status) {
  if (status == "NOT_READY") return " \u2014 rngpoold has not been seeded yet; retry shortly";
  if (status == "HWRNG_UNAVAILABLE")
    return " \u2014 the hardware RNG is absent or failed its health tests (see `rngpool health`)";
  if (status == "BUSY") return " \u2014 rngpoold is at its connection limit; retry shortly";
  if (status == "PERMISSION_DENIED") return " \u2014 ask the administrator for access";
  return {};
}

Error daemon_error(std::string status, const std::string& message) {
  std::string text = "rngpoold refused the request: " + status;
  if (!message.empty()) text += " (" + message + ")";
  text += daemon_hint(status);
  return Error(ErrorKind::daemon, std::move(status), 0, text);
}

}  // namespace detail
}  // namespace rngpool
