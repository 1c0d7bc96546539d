#include "server/output_buffer.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cassert>
#include <cstring>
#include <new>

#include "core/secure_memory.hpp"

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

std::span<std::uint8_t> OutputBuffer::extend(std::size_t n) {
  assert(n <= room());
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
  if (!chunk_)
    return;
  core::wipe({chunk_.get(), written_});
  size_ = written_ = 0;
  pool_.give(std::move(chunk_));
}

}  // namespace rngpool::server
