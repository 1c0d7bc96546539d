// Helpers shared by the robustness tests (issue 5 §2-§5): repeated-block
// detection, crafted hwrng data, and raw sockets for clients that misbehave
// in ways TestConnection will not.
#pragma once

#include "rngpool/test/support.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace rngpool::test::robustness {

inline std::vector<std::uint8_t> random_bytes(std::size_t n) {
  std::vector<std::uint8_t> bytes(n);
  FifoFeeder::random_bytes()(bytes);
  return bytes;
}

// Random bytes with no two equal neighbours: healthy hwrng data in which the
// only runs are the ones a test puts there on purpose.  `previous` is the
// byte the data will follow, so pieces can be joined without making a run.
inline std::vector<std::uint8_t> runless_random(std::size_t n, int previous = -1) {
  auto bytes = random_bytes(n);
  for (auto& byte : bytes) {
    if (byte == previous) byte = static_cast<std::uint8_t>(byte + 1);
    previous = byte;
  }
  return bytes;
}

inline void append(std::vector<std::uint8_t>& to, std::span<const std::uint8_t> bytes) {
  to.insert(to.end(), bytes.begin(), bytes.end());
}

inline void write_file(const std::filesystem::path& path, std::span<const std::uint8_t> bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path.native());
}

// Collects the 16-byte blocks of replies and counts blocks seen twice.  A
// repeat among outputs of a working CSPRNG has probability ~ n^2 / 2^129, so
// one repeat is a bug (a reused key or counter, a buffer served twice).
// Only the first `prefix` bytes of each reply are kept, and at most
// `max_blocks` of them (16 bytes each); after that, later blocks are only
// looked up among the kept ones, so a long run still catches late output
// repeating early output without growing.
class BlockRepeats {
 public:
  explicit BlockRepeats(std::size_t prefix = 4096, std::size_t max_blocks = 4u << 20)
      : prefix_(prefix), max_blocks_(max_blocks) {}

  // Bytes of one reply, in order; `offset` is where `bytes` starts within it.
  void add(std::span<const std::uint8_t> bytes, std::size_t offset = 0) {
    for (std::size_t i = 0; i + 16 <= bytes.size() && offset + i + 16 <= prefix_; i += 16) {
      Block block;
      std::memcpy(block.data(), bytes.data() + i, 16);
      if (frozen_) {
        repeats_ += std::binary_search(blocks_.begin(), blocks_.end(), block);
        ++looked_up_;
        continue;
      }
      blocks_.push_back(block);
      if (blocks_.size() == max_blocks_) freeze();
    }
  }
  // Call once at the end.
  std::size_t repeats() {
    if (!frozen_) freeze();
    return repeats_;
  }
  std::size_t blocks() const { return blocks_.size() + looked_up_; }  // compared in all
  bool capped() const { return looked_up_ > 0; }

 private:
  using Block = std::array<std::uint64_t, 2>;
  void freeze() {
    std::sort(blocks_.begin(), blocks_.end());
    for (std::size_t i = 1; i < blocks_.size(); ++i) repeats_ += blocks_[i] == blocks_[i - 1];
    frozen_ = true;
  }

  std::size_t prefix_;
  std::size_t max_blocks_;
  std::vector<Block> blocks_;
  bool frozen_ = false;
  std::size_t repeats_ = 0;
  std::size_t looked_up_ = 0;
};

// A connected Unix-socket fd owned by the test, for clients whose whole
// point is to behave badly (never read, half-close, flood).
class RawSocket {
 public:
  explicit RawSocket(const std::string& path, bool nonblocking = false) : fd_(connect_unix(path)) {
    if (nonblocking) set_nonblocking(fd_.get());
  }
  int fd() const { return fd_.get(); }
  // Best effort: a hostile client does not care whether the daemon took it.
  void send_all(std::span<const std::uint8_t> bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
      ssize_t n = ::send(fd_.get(), bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return;
      sent += static_cast<std::size_t>(n);
    }
  }
  // True when the daemon has closed: recv returns 0 or ECONNRESET now,
  // after discarding whatever it had sent.
  bool peer_closed() {
    char scratch[4096];
    for (;;) {
      ssize_t n = recv(fd_.get(), scratch, sizeof scratch, MSG_DONTWAIT);
      if (n > 0) continue;
      if (n == 0) return true;
      return errno == ECONNRESET || errno == EPIPE;
    }
  }

 private:
  Fd fd_;
};

// The HEALTH line, asked in text mode on a fresh connection.
inline std::string health(const std::string& socket_path) {
  TestConnection connection(socket_path);
  connection.send(std::string_view("HEALTH\n"));
  return connection.read_line();
}

// A daemon reading the test's own hwrng path: a FIFO or file it drives.
inline DaemonConfig reading_hwrng(const std::string& path, std::vector<std::string> args = {}) {
  return {.hwrng = HwrngFeed::path, .hwrng_path = path, .args = std::move(args)};
}

// Waits for STATUS to satisfy `condition`; returns the last report either way.
template <class Condition>
protocol::StatusReport status_when(const std::string& socket_path, Condition condition,
                                   std::chrono::milliseconds timeout = std::chrono::seconds{10}) {
  protocol::StatusReport report;
  eventually(
      [&] {
        report = status_report(socket_path);
        return condition(report);
      },
      timeout);
  return report;
}

}  // namespace rngpool::test::robustness
