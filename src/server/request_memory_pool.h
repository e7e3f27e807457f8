#pragma once
// queued.max.request.bytes: the memory all connections together may hold in
// request bytes read from sockets and not yet handled. A connection takes a
// share before it reads more of a request body (a chunk at a time, so a client
// that sends a header and stalls holds only what it really sent) and gives it
// back when the request has been handled. When the pool is exhausted,
// connections stop reading (back-pressure, as Kafka mutes channels) until
// memory is released. One event loop: not thread-safe.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "common/async_event.h"

namespace runnel::server {

class RequestMemoryPool {
 public:
  // capacity <= 0: unbounded (Kafka's queued.max.request.bytes=-1).
  explicit RequestMemoryPool(int64_t capacity) : capacity_(capacity) {}
  RequestMemoryPool(const RequestMemoryPool&) = delete;
  RequestMemoryPool& operator=(const RequestMemoryPool&) = delete;

  // Takes n bytes if they fit. When nothing is in use any size fits, so one
  // request larger than the pool still makes progress. Small requests may also
  // use a reserve of capacity/8 above the capacity, so that clients sending
  // ordinary requests are still served while big ones have exhausted the pool.
  bool try_acquire(int64_t n, bool small_request = false) {
    const int64_t limit = small_request ? capacity_ + capacity_ / 8 : capacity_;
    if (capacity_ > 0 && used_ > 0 && used_ + n > limit) return false;
    used_ += n;
    peak_ = std::max(peak_, used_);
    return true;
  }
  void release(int64_t n) {
    used_ -= n;
    // Wake every waiter: each retries, those that do not fit wait again.
    auto waiters = std::move(waiters_);
    waiters_.clear();
    for (AsyncEvent* w : waiters) w->notify();
  }
  // `event` is notified at the next release().
  void wait_for_release(AsyncEvent* event) { waiters_.push_back(event); }
  void forget(AsyncEvent* event) { std::erase(waiters_, event); }

  int64_t used() const { return used_; }
  int64_t peak() const { return peak_; }
  int64_t capacity() const { return capacity_; }

 private:
  const int64_t capacity_;
  int64_t used_ = 0;
  int64_t peak_ = 0;
  std::vector<AsyncEvent*> waiters_;
};

// Bytes taken from the pool for one request; given back when it is destroyed.
class PoolShare {
 public:
  PoolShare() = default;
  explicit PoolShare(RequestMemoryPool* pool) : pool_(pool) {}
  PoolShare(PoolShare&& other) noexcept : pool_(other.pool_), bytes_(other.bytes_) { other.bytes_ = 0; }
  PoolShare& operator=(PoolShare&& other) noexcept {
    if (this != &other) {
      reset();
      pool_ = other.pool_;
      bytes_ = other.bytes_;
      other.bytes_ = 0;
    }
    return *this;
  }
  ~PoolShare() { reset(); }
  void add(int64_t n) { bytes_ += n; }
  void reset() {
    if (pool_ && bytes_ > 0) pool_->release(bytes_);
    bytes_ = 0;
  }
  int64_t bytes() const { return bytes_; }

 private:
  RequestMemoryPool* pool_ = nullptr;
  int64_t bytes_ = 0;
};

}  // namespace runnel::server
