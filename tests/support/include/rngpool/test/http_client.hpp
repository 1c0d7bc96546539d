// A blocking HTTP/1.1 client on loopback TCP, for the metrics listener and
// the Prometheus the tests start: exact bytes in, everything until the
// server closes out, so a test sees precisely what a hostile or ordinary
// client would.
#pragma once

#include "rngpool/test/fd.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace rngpool::test {

struct HttpReply {
  int status = 0;       // 0: no status line came back
  std::string head;     // status line and headers
  std::string body;
};

// Connects to 127.0.0.1:port; throws std::system_error when nobody listens.
Fd connect_tcp(std::uint16_t port);
// Sends `request` as is, reads until the server closes or `timeout` passes.
HttpReply http_exchange(std::uint16_t port, std::string_view request,
                        std::chrono::milliseconds timeout = std::chrono::seconds{10});
// GET `target` with Connection: close.
HttpReply http_get(std::uint16_t port, std::string_view target,
                   std::chrono::milliseconds timeout = std::chrono::seconds{10});
// A port nobody listens on right now (bound to 0, then closed).
std::uint16_t free_tcp_port();
// Percent-encoding for a URL query value.
std::string url_encode(std::string_view text);

}  // namespace rngpool::test
