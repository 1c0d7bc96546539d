// One-line requests for tests: binary ones over a TestConnection, text ones
// through `nc -U` exactly as a person would type them.
#pragma once

#include "rngpool/protocol/status_report.hpp"
#include "rngpool/test/run_command.hpp"
#include "rngpool/test/test_connection.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace rngpool::test {

Reply get_random(TestConnection& connection, std::uint32_t count, std::uint16_t flags = 0,
                 std::uint32_t request_id = 1);
Reply ping(TestConnection& connection, std::uint32_t request_id = 1);
// STATUS over binary frames; throws unless the reply is OK and parses.
protocol::StatusReport status_report(TestConnection& connection);
protocol::StatusReport status_report(const std::string& socket_path);
// The value of `key`; throws naming the key when it is missing.
std::string status_value(const protocol::StatusReport& report, std::string_view key);
std::uint64_t status_number(const protocol::StatusReport& report, std::string_view key);

// `printf input | nc -U -N socket` (bounded by `timeout 10`).
CommandResult nc_transcript(const std::string& socket_path, std::string_view input);

}  // namespace rngpool::test
