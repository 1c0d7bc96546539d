// Memory for key material: locked so it is never swapped, excluded from core
// dumps (MADV_DONTDUMP), and wiped with OPENSSL_cleanse before it is freed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace rngpool::core {

class SecureBuffer {
 public:
  explicit SecureBuffer(std::size_t size);  // zero-filled; throws std::bad_alloc
  ~SecureBuffer();
  SecureBuffer(const SecureBuffer&) = delete;
  SecureBuffer& operator=(const SecureBuffer&) = delete;

  std::span<std::uint8_t> bytes() { return {data_, size_}; }
  std::span<const std::uint8_t> bytes() const { return {data_, size_}; }
  std::uint8_t* data() { return data_; }
  std::size_t size() const { return size_; }
  bool locked() const { return locked_; }
  void wipe();  // OPENSSL_cleanse over the whole buffer

 private:
  std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t mapped_ = 0;
  bool locked_ = false;
};

// OPENSSL_cleanse, for buffers outside SecureBuffer (e.g. socket chunks).
void wipe(std::span<std::uint8_t> bytes);

}  // namespace rngpool::core
