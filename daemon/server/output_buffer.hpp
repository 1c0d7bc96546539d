// Per-connection output: replies are assembled here and written in one go.
//
// Holds at most one chunk (a reply header and 64 KiB, the most Pool::generate
// produces at once, so a 64 KiB reply is one generate and one write), which
// is what bounds both the memory a client that stops reading can pin and how
// long a bulk reply can hold up the io thread between writes.  The chunk
// memory goes back to a shared free list when the connection goes idle, so a
// thousand idle clients cost no chunks at all.
//
// Why wipe on release, not after every write: a written reply is overwritten
// by the next one, which the connection generates fresh into the same bytes,
// and nothing past size() is ever written to the socket, so nothing is
// served twice.  What matters is that no served byte outlives the
// connection's use of the chunk: release() wipes every byte written since
// the chunk was taken (core::wipe) before the chunk goes back.  Wiping 64 KiB
// after every write instead cost about 7 us per bulk chunk.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "core/pool.hpp"
#include "rngpool/protocol/frame.hpp"

namespace rngpool::server {

inline constexpr std::size_t kChunkSize = protocol::kHeaderSize + core::kMaxGenerate;

// Chunk memory shared by all connections of the io thread.  Chunks come back
// wiped; a few are kept for reuse so busy clients do not hit malloc per reply.
class ChunkPool {
 public:
  std::unique_ptr<std::uint8_t[]> take();
  void give(std::unique_ptr<std::uint8_t[]> chunk);

 private:
  static constexpr std::size_t kKept = 16;
  std::vector<std::unique_ptr<std::uint8_t[]>> free_;
};

class OutputBuffer {
 public:
  explicit OutputBuffer(ChunkPool& pool) : pool_(pool) {}
  ~OutputBuffer() { release(); }
  OutputBuffer(const OutputBuffer&) = delete;
  OutputBuffer& operator=(const OutputBuffer&) = delete;

  std::size_t size() const { return size_; }
  std::size_t room() const { return kChunkSize - size_; }
  bool empty() const { return size_ == 0; }
  std::span<const std::uint8_t> bytes() const { return {chunk_.get(), size_}; }

  // Appends `n` <= room() bytes for the caller to fill.
  std::span<std::uint8_t> extend(std::size_t n);
  void append(std::span<const std::uint8_t> bytes);
  void append(std::string_view text);
  // Wipes and drops the last `n` bytes.
  void retract(std::size_t n);

  // Empties the buffer after a write; keeps the chunk and its bytes, which
  // the next reply overwrites.
  void clear() { size_ = 0; }
  // Wipes every byte written since take() and hands the chunk back.
  void release();

 private:
  ChunkPool& pool_;
  std::unique_ptr<std::uint8_t[]> chunk_;
  std::size_t size_ = 0;
  std::size_t written_ = 0;  // high-water mark of size_ since the chunk was taken
};

}  // namespace rngpool::server
