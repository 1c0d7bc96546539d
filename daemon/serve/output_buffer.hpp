// Per-connection output: replies are assembled here and written in one go.
//
// Holds at most one chunk (a reply header and 64 KiB, the most Pool::generate
// produces at once, so a 64 KiB reply is one generate and one write), which
// is what bounds both the memory a client that stops reading can pin and how
// long a bulk reply can hold up the io thread between writes.  The chunk
// memory goes back to a shared free list soon after the connection goes
// idle, so a thousand idle clients cost no chunks at all.
//
// Why wipe on release, not after every write: a written reply is overwritten
// by the next one, which the connection generates fresh into the same bytes,
// and nothing past size() is ever written to the socket, so nothing is
// served twice.  What matters is that no served byte outlives the
// connection's use of the chunk: release() wipes every byte written since
// the chunk was taken (core::wipe) before the chunk goes back.  Wiping 64 KiB
// after every write instead cost about 7 us per bulk chunk.
//
// Why "soon after", not at once: a closed-loop client asks again within a
// round trip, and releasing at every idle moment wiped 64 KiB per request
// (OPENSSL_cleanse was 9 % of the daemon's CPU for 64 KiB requests).  So an
// idle buffer lingers with its chunk, which the next reply overwrites, and a
// sweep every kLinger releases (wipes) the chunks of buffers that stayed idle
// for a whole interval: no served byte stays in a chunk longer than 2 *
// kLinger after its connection went quiet.  The sweep timer runs only while
// some buffer lingers.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "core/pool.hpp"
#include "rngpool/protocol/frame.hpp"
#include "runtime/asio.hpp"

namespace rngpool::server {

inline constexpr std::size_t kChunkSize = protocol::kHeaderSize + core::kMaxGenerate;

// ---------------------------------------------------------------------------
// Chunk memory shared by all connections of the io thread
//
// Bounded and given back (issue 9 §13).  Bounded: at most --max-output-memory
// in chunks at once; a connection that finds no room waits for one
// (subscribe()) instead of allocating past it, and room is handed to the
// waiters in their order.  Given back: chunks are mmap(2)ed one by one and
// munmap(2)ed when returned beyond the few kept for reuse (so busy clients
// do not hit the kernel per reply), so a burst's memory leaves the process
// when the burst does, which malloc's heap would not promise.
//
// Chunks come back wiped (OutputBuffer::release()).
// ---------------------------------------------------------------------------

class OutputBuffer;

struct ChunkUnmap {
  void operator()(std::uint8_t* chunk) const;
};
using Chunk = std::unique_ptr<std::uint8_t, ChunkUnmap>;

class ChunkPool {
 public:
  static constexpr std::chrono::milliseconds kLinger{10};

  explicit ChunkPool(asio::any_io_executor executor) : sweep_(std::move(executor)) {}
  ChunkPool(const ChunkPool&) = delete;
  ChunkPool& operator=(const ChunkPool&) = delete;

  // Whether one more chunk fits under `limit` bytes of chunks in use.
  bool has_room(std::uint64_t limit) const;
  // A chunk, whatever the limit: callers ask has_room() first.
  Chunk take();
  void give(Chunk chunk);
  std::size_t in_use() const { return in_use_; }

  // While the returned object lives, `timer`'s wait is cancelled when a
  // chunk comes back for it: a condition variable for coroutines.
  class Subscription;
  Subscription subscribe(asio::steady_timer& timer, std::uint64_t limit);

  // Releases every lingering idle buffer's chunk now: room is needed.
  void reclaim();
  std::size_t lingering() const { return lingering_.size(); }

 private:
  friend class OutputBuffer;
  using Lingering = std::list<OutputBuffer*>;

  void linger(OutputBuffer& buffer);
  void arm_sweep();
  void sweep();

  static constexpr std::size_t kKept = 16;
  // Wakes as many waiters, first come first, as there is room for.
  void wake_waiters(std::uint64_t limit);

  std::vector<Chunk> free_;
  std::size_t in_use_ = 0;
  std::list<asio::steady_timer*> waiters_;
  std::uint64_t limit_ = 0;  // of the last subscribe(): the current --max-output-memory
  Lingering lingering_;      // idle buffers holding a chunk, and busy ones since the last sweep
  asio::steady_timer sweep_;
  bool sweep_armed_ = false;
  std::uint64_t sweeps_ = 0;
};

class ChunkPool::Subscription {
 public:
  Subscription(ChunkPool& pool, asio::steady_timer& timer)
      : pool_(pool), entry_(pool.waiters_.insert(pool.waiters_.end(), &timer)) {}
  // Leaving without a chunk (closed, timed out) passes the room on.
  ~Subscription() {
    pool_.waiters_.erase(entry_);
    pool_.wake_waiters(pool_.limit_);
  }
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;

 private:
  ChunkPool& pool_;
  std::list<asio::steady_timer*>::iterator entry_;
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
  bool holds_chunk() const { return chunk_ != nullptr; }
  std::span<const std::uint8_t> bytes() const { return {chunk_.get(), size_}; }

  // Appends `n` <= room() bytes for the caller to fill; takes a chunk from
  // the pool first when it holds none (the caller checked has_room()).
  std::span<std::uint8_t> extend(std::size_t n);
  void append(std::span<const std::uint8_t> bytes);
  void append(std::string_view text);
  // Wipes and drops the last `n` bytes.
  void retract(std::size_t n);

  // Empties the buffer after a write; keeps the chunk and its bytes, which
  // the next reply overwrites.
  void clear() { size_ = 0; }
  // The connection went idle: clear(), and release() at the sweep after
  // next unless a reply comes first.
  void idle();
  // Wipes every byte written since take() and hands the chunk back.
  void release();

 private:
  ChunkPool& pool_;
  Chunk chunk_;
  std::size_t size_ = 0;
  std::size_t written_ = 0;  // high-water mark of size_ since the chunk was taken
  // Lingering, kept by the pool:
  friend class ChunkPool;
  bool idle_ = false;
  std::uint64_t idle_since_ = 0;  // the pool's sweep count when it went idle
  std::optional<ChunkPool::Lingering::iterator> lingering_;  // its entry in the pool's list
};

}  // namespace rngpool::server
