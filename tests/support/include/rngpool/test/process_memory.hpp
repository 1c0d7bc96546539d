// Searching a live process's memory for secrets it should have wiped.
//
// Why: "no served byte and no used key survives" is a claim about all of a
// process's memory, including what OpenSSL keeps on its own heap, so the
// check reads all of it, as an attacker with a core dump or /proc/PID/mem
// would.  A test searching its own process must not itself hold what it
// looks for: a Needle keeps its bytes masked (XOR), and the search compares
// through the mask, so no plain copy of the secret exists outside the place
// being tested.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace rngpool::test {

class Needle {
 public:
  explicit Needle(std::span<const std::uint8_t> secret, std::string name);
  std::size_t size() const { return masked_.size(); }
  bool matches(const std::uint8_t* at) const;  // at[0..size) equals the secret
  std::uint8_t first_byte() const;             // to find candidates fast
  const std::string& name() const { return name_; }

 private:
  std::vector<std::uint8_t> masked_;
  std::string name_;
};

struct MemoryHit {
  std::string needle;  // its name
  std::string region;  // the /proc/PID/maps line it was found in
};

struct MemoryScan {
  std::vector<MemoryHit> hits;
  std::size_t bytes_read = 0;
  std::vector<std::string> skipped;  // regions not read, with why
};

// Every readable and writable mapping of `pid` (0: this process), read through
// /proc/PID/mem, searched for every needle.  Throws std::system_error when
// /proc/PID/mem cannot be opened (another user's or an undumpable process,
// without CAP_SYS_PTRACE).  Mappings above 1 GiB (sanitizer shadow memory)
// are skipped and listed.
MemoryScan scan_memory(pid_t pid, const std::vector<Needle>& needles);

// The kernel's view of the mapping that holds `address` in this process:
// its VmFlags line in /proc/self/smaps ("" when no mapping holds it), and
// whether that line names `flag` ("lo" locked, "dd" not dumped, "wf" wiped
// on fork; proc(5)).
std::string vm_flags(const void* address);
bool has_vm_flag(const std::string& flags, const std::string& flag);

}  // namespace rngpool::test
