#pragma once
// The bytes of one request as they are read from the socket. Unlike
// std::vector<uint8_t>, growing it does not zero-fill memory that the socket
// read overwrites at once (that memset was 17% of the broker's CPU on a
// produce-heavy load), and growth goes through realloc, which for large
// blocks moves pages (mremap) instead of copying bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <span>
#include <utility>
#include <vector>

namespace runnel::server {

class FrameBuffer {
 public:
  FrameBuffer() = default;
  FrameBuffer(const FrameBuffer&) = delete;
  FrameBuffer& operator=(const FrameBuffer&) = delete;
  FrameBuffer(FrameBuffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)),
        size_(std::exchange(other.size_, 0)),
        capacity_(std::exchange(other.capacity_, 0)) {}
  FrameBuffer& operator=(FrameBuffer&& other) noexcept {
    if (this != &other) {
      std::free(data_);
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
      capacity_ = std::exchange(other.capacity_, 0);
    }
    return *this;
  }
  ~FrameBuffer() { std::free(data_); }

  // Appends n uninitialised bytes and returns where they start. Capacity
  // grows to at least `at_least` (callers pass what they expect to need) and
  // geometrically beyond it. Throws std::bad_alloc when memory runs out.
  uint8_t* extend(size_t n, size_t at_least = 0) {
    const size_t needed = size_ + n;
    if (needed > capacity_) {
      size_t capacity = capacity_ * 2;
      if (capacity < at_least) capacity = at_least;
      if (capacity < needed) capacity = needed;
      void* grown = std::realloc(data_, capacity);
      if (grown == nullptr) throw std::bad_alloc();
      data_ = static_cast<uint8_t*>(grown);
      capacity_ = capacity;
    }
    uint8_t* at = data_ + size_;
    size_ = needed;
    return at;
  }

  void clear() { size_ = 0; }  // keeps the memory
  uint8_t* data() { return data_; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  std::span<uint8_t> span() { return {data_, size_}; }

 private:
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

// Buffers of handled requests, kept for the next ones (LIFO, so the memory is
// warm): a fresh megabyte buffer per produce request costs page faults, and
// the kernel zeroing each page, on every request. Holds at most `max_bytes`.
// One event loop: not thread-safe.
class FrameBufferPool {
 public:
  explicit FrameBufferPool(size_t max_bytes) : max_bytes_(max_bytes) {}
  FrameBufferPool(const FrameBufferPool&) = delete;
  FrameBufferPool& operator=(const FrameBufferPool&) = delete;

  FrameBuffer take() {
    if (free_.empty()) return {};
    FrameBuffer buffer = std::move(free_.back());
    free_.pop_back();
    held_ -= buffer.capacity();
    return buffer;
  }
  void give(FrameBuffer buffer) {
    if (buffer.capacity() == 0 || held_ + buffer.capacity() > max_bytes_) return;  // freed here
    buffer.clear();
    held_ += buffer.capacity();
    free_.push_back(std::move(buffer));
  }
  size_t held_bytes() const { return held_; }

 private:
  const size_t max_bytes_;
  size_t held_ = 0;
  std::vector<FrameBuffer> free_;
};

}  // namespace runnel::server
