// The live daemon's memory after serving (issue 9, item 4): the last
// size % 64 bytes of a direct-path reply stayed in the EVP ChaCha20
// context's partial-block buffer, on OpenSSL's heap, outside locked memory,
// for good.  The daemon is searched through /proc/PID/mem for the tails of
// replies it served.  It is not dumpable (prctl), so this needs
// CAP_SYS_PTRACE (root); without it the case says why it cannot look.  The
// unit tests in tests/core search the generator's own process either way.
#include "rngpool/test/support.hpp"

#include "../core/test_pool_support.hpp"  // from_hex

#include <catch2/catch.hpp>

#include <cerrno>
#include <string>
#include <system_error>
#include <vector>

using namespace rngpool;
using namespace rngpool::test;

namespace {

// The reply's last size % 64 bytes (at least 8, so a match means something).
Needle tail_of(std::span<const std::uint8_t> reply, const std::string& what) {
  const std::size_t tail = std::max<std::size_t>(reply.size() % 64, 8);
  return Needle(reply.last(tail), "the last " + std::to_string(tail) + " bytes of " + what);
}

std::vector<std::uint8_t> hex_reply(TestConnection& connection, std::uint32_t n) {
  connection.send("HEX " + std::to_string(n) + "\n");
  const std::string line = connection.read_line();
  REQUIRE(line.size() == 2 * n);
  return from_hex(line);
}

// The scan, or a warning saying why the daemon's memory cannot be read.  A
// reply also sits in its connection's output chunk until the connection
// goes idle and wipes it (output_buffer.hpp), so the search is repeated for
// a while; what EVP kept stayed for good.
void check_not_in_memory(pid_t pid, const Needle& needle) {
  try {
    MemoryScan scan;
    const bool gone = eventually(
        [&] {
          scan = scan_memory(pid, {needle});
          return scan.hits.empty();
        },
        std::chrono::seconds(3), std::chrono::milliseconds(50));
    for (const auto& skipped : scan.skipped) WARN("not searched: " << skipped);
    CHECK(scan.bytes_read > 0);
    CHECK(gone);
    for (const auto& hit : scan.hits) FAIL_CHECK(hit.needle << " found in " << hit.region);
  } catch (const std::system_error& error) {
    if (error.code().value() != EACCES && error.code().value() != EPERM) throw;
    WARN("cannot read the daemon's memory (" << error.what()
                                              << "): it is not dumpable, and this test lacks CAP_SYS_PTRACE; "
                                                 "tests/core checks the generator in-process instead");
  }
}

}  // namespace

// Each reply is looked for right after it was served, on a connection then
// closed: a later request with a tail of its own overwrote EVP's buffer, so
// only the last tail stayed.
TEST_CASE("daemon: no served tail is left in the daemon's memory", "[memory]") {
  TestDaemon daemon;
  for (std::uint32_t n : {3080u, 5000u, 70000u}) {
    std::vector<std::uint8_t> payload;
    {
      TestConnection binary(daemon.socket_path());
      Reply reply = get_random(binary, n);
      REQUIRE(reply.header.status == protocol::Status::ok);
      payload = std::move(reply.payload);
    }
    REQUIRE(payload.size() == n);
    check_not_in_memory(daemon.pid(), tail_of(payload, "GET_RANDOM " + std::to_string(n)));
  }
  std::vector<std::uint8_t> hex;
  {
    TestConnection text(daemon.socket_path());
    hex = hex_reply(text, 3100);
  }
  check_not_in_memory(daemon.pid(), tail_of(hex, "HEX 3100"));
}
