#include "rngpool/test/privileges.hpp"

#include <unistd.h>

#include <fstream>
#include <stdexcept>

namespace rngpool::test {

std::vector<std::string> without_capabilities(const std::vector<std::string>& names) {
  if (geteuid() != 0) return {};
  std::string drop;
  for (const auto& name : names) drop += (drop.empty() ? "-" : ",-") + name;
  return {"setpriv", "--bounding-set=" + drop, "--inh-caps=" + drop, "--"};
}

std::vector<std::string> as_uid(std::uint32_t id) {
  if (geteuid() != 0) return {};
  const std::string n = std::to_string(id);
  return {"setpriv", "--reuid=" + n, "--regid=" + n, "--clear-groups", "--"};
}

std::vector<std::string> with_no_memlock() { return {"prlimit", "--memlock=0:0", "--"}; }

bool has_effective_capability(pid_t pid, int capability) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);)
    if (line.starts_with("CapEff:")) return (std::stoull(line.substr(7), nullptr, 16) >> capability) & 1;
  throw std::runtime_error("no CapEff in /proc/" + std::to_string(pid) + "/status");
}

}  // namespace rngpool::test
