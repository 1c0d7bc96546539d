// Errors without a daemon: what a person reads, and what the C API returns.
#include "rngpool/rngpool.h"
#include "rngpool/client.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <string>

#include <unistd.h>

namespace {

std::string missing_socket() {
  return "/tmp/rngpool-client-test-missing-" + std::to_string(::getpid()) + ".sock";
}

}  // namespace

TEST_CASE("no daemon: an actionable connect error, at once") {
  const std::string path = missing_socket();
  const rngpool::Client client(path);
  const auto start = std::chrono::steady_clock::now();
  try {
    client.token_bytes(16);
    FAIL("token_bytes succeeded without a daemon");
  } catch (const rngpool::Error& error) {
    CHECK(error.kind() == rngpool::ErrorKind::connect);
    CHECK(error.status_name() == "ENOENT");
    CHECK(error.os_error() == ENOENT);
    CHECK(std::string(error.what()) ==
          "cannot connect to " + path + ": No such file or directory \u2014 is rngpoold running?");
  }
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
}

TEST_CASE("the socket path: constructor, else $RNGPOOL_SOCKET, else the system socket") {
  ::unsetenv("RNGPOOL_SOCKET");
  CHECK(rngpool::Client().socket_path() == "/run/rngpool/rngpool.sock");
  ::setenv("RNGPOOL_SOCKET", "/tmp/from-env.sock", 1);
  CHECK(rngpool::Client().socket_path() == "/tmp/from-env.sock");
  CHECK(rngpool::Client("/tmp/explicit.sock").socket_path() == "/tmp/explicit.sock");
  ::unsetenv("RNGPOOL_SOCKET");
}

TEST_CASE("an over-long socket path is refused by name") {
  const rngpool::Client client(std::string(200, 'x'));
  CHECK_THROWS_WITH(client.ping(), Catch::Contains("File name too long"));
}

TEST_CASE("C API: codes and messages without a daemon") {
  const std::string path = missing_socket();
  rngpool_client* client = rngpool_open(path.c_str());
  REQUIRE(client != nullptr);
  unsigned char buffer[8];
  CHECK(rngpool_bytes(client, buffer, sizeof buffer) == RNGPOOL_E_CONNECT);
  CHECK(std::string(rngpool_last_error()).find("is rngpoold running?") != std::string::npos);
  std::uint64_t value = 0;
  CHECK(rngpool_randbelow(client, 0, &value) == RNGPOOL_E_INVALID);
  char small[4];
  CHECK(rngpool_token_hex(client, 16, small, sizeof small) == RNGPOOL_E_BUFFER);
  CHECK(rngpool_token_urlsafe(client, 16, small, sizeof small) == RNGPOOL_E_BUFFER);
  CHECK(rngpool_bytes(nullptr, buffer, 1) == RNGPOOL_E_INVALID);
  CHECK(std::string(rngpool_strerror(RNGPOOL_E_NOT_READY)).starts_with("NOT_READY"));
  CHECK(std::string(rngpool_strerror(RNGPOOL_E_HWRNG_UNAVAILABLE)).starts_with("HWRNG_UNAVAILABLE"));
  CHECK(std::string(rngpool_strerror(12345)) == "unknown rngpool error code");
  rngpool_close(client);
  rngpool_close(nullptr);
}
