#include "rngpool/test/requests.hpp"

#include <stdexcept>

namespace rngpool::test {

Reply get_random(TestConnection& connection, std::uint32_t count, std::uint16_t flags, std::uint32_t request_id) {
  return connection.request(protocol::encode_get_random(request_id, count, flags));
}

Reply ping(TestConnection& connection, std::uint32_t request_id) {
  return connection.request(protocol::encode_request(protocol::Opcode::ping, request_id));
}

protocol::StatusReport status_report(TestConnection& connection) {
  auto reply = connection.request(protocol::encode_request(protocol::Opcode::status, 1));
  if (reply.header.status != protocol::Status::ok)
    throw std::runtime_error("STATUS failed: " + std::string(protocol::status_name(reply.header.status)) + " " +
                             reply.payload_text());
  auto report = protocol::parse_status_report(reply.payload_text());
  if (!report) throw std::runtime_error("STATUS payload does not parse:\n" + reply.payload_text());
  return *report;
}

protocol::StatusReport status_report(const std::string& socket_path) {
  TestConnection connection(socket_path);
  return status_report(connection);
}

std::string status_value(const protocol::StatusReport& report, std::string_view key) {
  auto value = protocol::find_value(report, key);
  if (!value) throw std::runtime_error("STATUS has no key " + std::string(key));
  return *value;
}

std::uint64_t status_number(const protocol::StatusReport& report, std::string_view key) {
  auto text = status_value(report, key);
  std::size_t used = 0;
  auto number = std::stoull(text, &used);
  if (used != text.size() || text.empty())
    throw std::runtime_error("STATUS " + std::string(key) + " is not a number: " + text);
  return number;
}

CommandResult nc_transcript(const std::string& socket_path, std::string_view input) {
  return run_command("timeout 10 nc -U -N " + shell_quote(socket_path), input);
}

}  // namespace rngpool::test
