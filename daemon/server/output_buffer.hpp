// Per-connection output: replies are assembled here and written in one go.
//
// Holds at most one chunk (64 KiB, the most Pool::generate produces at once),
// which is what bounds both the memory a client that stops reading can pin
// and how long a bulk reply can hold up the io thread between writes.
// Random bytes in it are wiped after every write (core::wipe), and the chunk
// memory goes back to a shared free list when the connection goes idle, so
// a thousand idle clients cost no chunks at all.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "core/pool.hpp"

namespace rngpool::server {

inline constexpr std::size_t kChunkSize = core::kMaxGenerate;

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

  // Wipes what was written; keeps the chunk.
  void clear();
  // Wipes and hands the chunk back to the pool.
  void release();

 private:
  ChunkPool& pool_;
  std::unique_ptr<std::uint8_t[]> chunk_;
  std::size_t size_ = 0;
};

}  // namespace rngpool::server
