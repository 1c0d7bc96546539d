// Reading /proc/PID/maps and /proc/PID/mem.
#include "rngpool/test/process_memory.hpp"

#include "rngpool/test/fd.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>

namespace rngpool::test {

namespace {

constexpr std::uint8_t kMask = 0xA5;
constexpr std::size_t kChunk = std::size_t{1} << 22;
constexpr std::size_t kMaxRegion = std::size_t{1} << 30;

}  // namespace

Needle::Needle(std::span<const std::uint8_t> secret, std::string name) : name_(std::move(name)) {
  masked_.reserve(secret.size());
  for (std::uint8_t b : secret) masked_.push_back(static_cast<std::uint8_t>(b ^ kMask));
}

std::uint8_t Needle::first_byte() const { return static_cast<std::uint8_t>(masked_.at(0) ^ kMask); }

bool Needle::matches(const std::uint8_t* at) const {
  for (std::size_t i = 0; i < masked_.size(); ++i) {
    if (static_cast<std::uint8_t>(at[i] ^ kMask) != masked_[i]) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------
// The scan
//
// The read buffer is a mapping of its own, left out of the scan: it holds
// copies of what was read before, not state of the process.  Chunks overlap
// by the longest needle, so a secret straddling two chunks is found.
// ---------------------------------------------------------------------------

namespace {

struct Region {
  std::uintptr_t begin = 0, end = 0;
  std::string line;
};

std::vector<Region> writable_regions(const std::string& proc) {
  std::vector<Region> regions;
  std::ifstream maps(proc + "/maps");
  for (std::string line; std::getline(maps, line);) {
    unsigned long begin = 0, end = 0;
    char perms[5] = {};
    if (std::sscanf(line.c_str(), "%lx-%lx %4s", &begin, &end, perms) != 3) continue;
    if (perms[0] != 'r' || perms[1] != 'w') continue;
    regions.push_back({begin, end, line});
  }
  return regions;
}

class ReadBuffer {
 public:
  ReadBuffer() : data_(static_cast<std::uint8_t*>(
                     ::mmap(nullptr, kChunk, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))) {
    if (data_ == MAP_FAILED) throw_errno("mmap");
  }
  ~ReadBuffer() { ::munmap(data_, kChunk); }
  ReadBuffer(const ReadBuffer&) = delete;
  ReadBuffer& operator=(const ReadBuffer&) = delete;
  std::uint8_t* data() const { return data_; }
  bool is(const Region& region) const { return region.begin == reinterpret_cast<std::uintptr_t>(data_); }

 private:
  std::uint8_t* data_;
};

// memchr finds the candidates (libc's, fast even in a sanitizer build); one
// unmasked byte says nothing of the secret.
void search(const std::uint8_t* data, std::size_t size, const Region& region, const std::vector<Needle>& needles,
            MemoryScan& scan) {
  for (const Needle& needle : needles) {
    if (needle.size() == 0 || needle.size() > size) continue;
    const std::uint8_t first = needle.first_byte();
    const std::uint8_t* const last = data + size - needle.size();
    for (const std::uint8_t* at = data; at <= last; ++at) {
      at = static_cast<const std::uint8_t*>(std::memchr(at, first, static_cast<std::size_t>(last - at) + 1));
      if (at == nullptr) break;
      if (needle.matches(at)) scan.hits.push_back({needle.name(), region.line});
    }
  }
}

}  // namespace

MemoryScan scan_memory(pid_t pid, const std::vector<Needle>& needles) {
  const std::string proc = pid == 0 ? "/proc/self" : "/proc/" + std::to_string(pid);
  const Fd mem(::open((proc + "/mem").c_str(), O_RDONLY | O_CLOEXEC));
  if (!mem) throw_errno("open " + proc + "/mem");
  std::size_t overlap = 0;
  for (const Needle& needle : needles) overlap = std::max(overlap, needle.size());
  const ReadBuffer buffer;
  MemoryScan scan;
  for (const Region& region : writable_regions(proc)) {
    if (pid == 0 && buffer.is(region)) continue;
    if (region.end - region.begin > kMaxRegion) {
      scan.skipped.push_back(region.line + " (larger than 1 GiB)");
      continue;
    }
    for (std::uintptr_t at = region.begin; at < region.end;) {
      const std::size_t want = std::min<std::size_t>(kChunk, region.end - at);
      const ssize_t got = ::pread(mem.get(), buffer.data(), want, static_cast<off_t>(at));
      if (got <= 0) {
        scan.skipped.push_back(region.line + " (unreadable)");
        break;
      }
      const auto size = static_cast<std::size_t>(got);
      search(buffer.data(), size, region, needles, scan);
      scan.bytes_read += size;
      if (at + size >= region.end || size <= overlap) break;
      at += size - overlap;
    }
  }
  return scan;
}

// ---------------------------------------------------------------------------
// The kernel's flags for one mapping
// ---------------------------------------------------------------------------

std::string vm_flags(const void* address) {
  const auto a = reinterpret_cast<std::uintptr_t>(address);
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    std::uintptr_t lo = 0, hi = 0;
    char dash = 0;
    std::istringstream range(line);
    if (range >> std::hex >> lo >> dash >> hi && dash == '-') {
      inside = lo <= a && a < hi;
    } else if (inside && line.rfind("VmFlags:", 0) == 0) {
      return line;
    }
  }
  return {};
}

bool has_vm_flag(const std::string& flags, const std::string& flag) {
  return (flags + " ").find(" " + flag + " ") != std::string::npos;
}

}  // namespace rngpool::test
