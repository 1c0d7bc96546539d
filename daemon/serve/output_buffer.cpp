#include "serve/output_buffer.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cassert>
#include <cstring>
#include <new>

#include "generator/secure_memory.hpp"

namespace rngpool::server {

void ChunkUnmap::operator()(std::uint8_t* chunk) const { ::munmap(chunk, kChunkSize); }

bool ChunkPool::has_room(std::uint64_t limit) const {
  return (in_use_ + 1) * std::uint64_t{kChunkSize} <= std::max<std::uint64_t>(limit, kChunkSize);
}

Chunk ChunkPool::take() {
  ++in_use_;
  if (!free_.empty()) {
    Chunk chunk = std::move(free_.back());
    free_.pop_back();
    return chunk;
  }
  void* memory = ::mmap(nullptr, kChunkSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) {
    --in_use_;
    throw std::bad_alloc();
  }
  return Chunk(static_cast<std::uint8_t*>(memory));
}

void ChunkPool::give(Chunk chunk) {
  --in_use_;
  if (free_.size() < kKept)
    free_.push_back(std::move(chunk));
  chunk.reset();
  wake_waiters(limit_);
}

ChunkPool::Subscription ChunkPool::subscribe(asio::steady_timer& timer, std::uint64_t limit) {
  limit_ = limit;
  return Subscription(*this, timer);
}

// The first waiters may have been woken already and not run yet: they are
// woken again (a no-op) and counted against the room, which is what keeps
// one returned chunk from waking more than one waiter.
void ChunkPool::wake_waiters(std::uint64_t limit) {
  std::uint64_t room = std::max<std::uint64_t>(limit, kChunkSize) / kChunkSize;
  room = room > in_use_ ? room - in_use_ : 0;
  for (auto it = waiters_.begin(); it != waiters_.end() && room > 0; ++it, --room)
    (*it)->cancel();
}

// ---------------------------------------------------------------------------
// Lingering (see the header)
//
// A buffer that went idle before the previous sweep and has not been used
// since has been idle for a whole interval: that sweep releases it.  Busy
// buffers leave the list and come back when they go idle again, so a
// stalled reply does not keep the timer running.
// ---------------------------------------------------------------------------

void ChunkPool::linger(OutputBuffer& buffer) {
  buffer.idle_ = true;
  buffer.idle_since_ = sweeps_;
  if (!buffer.lingering_)
    buffer.lingering_ = lingering_.insert(lingering_.end(), &buffer);
  arm_sweep();
}

void ChunkPool::arm_sweep() {
  if (sweep_armed_)
    return;
  sweep_armed_ = true;
  sweep_.expires_after(kLinger);
  sweep_.async_wait([this](const error_code& ec) {
    sweep_armed_ = false;
    if (!ec)
      sweep();
  });
}

void ChunkPool::sweep() {
  ++sweeps_;
  for (auto it = lingering_.begin(); it != lingering_.end();) {
    OutputBuffer& buffer = **it++;  // release() removes the entry
    if (!buffer.idle_) {
      lingering_.erase(*buffer.lingering_);
      buffer.lingering_.reset();
    } else if (buffer.idle_since_ + 1 < sweeps_) {
      buffer.release();
    }
  }
  if (!lingering_.empty())
    arm_sweep();
}

void ChunkPool::reclaim() {
  for (auto it = lingering_.begin(); it != lingering_.end();) {
    OutputBuffer& buffer = **it++;
    if (buffer.idle_)
      buffer.release();
  }
}

void OutputBuffer::idle() {
  if (!chunk_)
    return;
  size_ = 0;
  pool_.linger(*this);
}

std::span<std::uint8_t> OutputBuffer::extend(std::size_t n) {
  assert(n <= room());
  idle_ = false;
  if (!chunk_)
    chunk_ = pool_.take();
  std::span<std::uint8_t> tail(chunk_.get() + size_, n);
  size_ += n;
  written_ = std::max(written_, size_);
  return tail;
}

void OutputBuffer::append(std::span<const std::uint8_t> bytes) {
  if (!bytes.empty())
    std::memcpy(extend(bytes.size()).data(), bytes.data(), bytes.size());
}

void OutputBuffer::append(std::string_view text) {
  append(std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

void OutputBuffer::retract(std::size_t n) {
  assert(n <= size_);
  if (n == 0)
    return;
  core::wipe({chunk_.get() + size_ - n, n});
  size_ -= n;
}

void OutputBuffer::release() {
  idle_ = false;
  if (lingering_) {
    pool_.lingering_.erase(*lingering_);
    lingering_.reset();
  }
  if (!chunk_)
    return;
  core::wipe({chunk_.get(), written_});
  size_ = written_ = 0;
  pool_.give(std::move(chunk_));
}

}  // namespace rngpool::server
