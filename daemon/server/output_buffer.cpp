#include "server/output_buffer.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>

#include "core/secure_memory.hpp"

namespace rngpool::server {

std::unique_ptr<std::uint8_t[]> ChunkPool::take() {
  if (free_.empty())
    return std::make_unique_for_overwrite<std::uint8_t[]>(kChunkSize);
  auto chunk = std::move(free_.back());
  free_.pop_back();
  return chunk;
}

void ChunkPool::give(std::unique_ptr<std::uint8_t[]> chunk) {
  if (free_.size() < kKept)
    free_.push_back(std::move(chunk));
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
