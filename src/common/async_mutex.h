#pragma once
// Mutual exclusion for coroutines on one event loop: `auto guard = co_await mutex.lock();`
// Waiters are served in arrival order. Not thread-safe (one loop only).
#include <deque>
#include <memory>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/this_coro.hpp>

#include "common/async_event.h"

namespace runnel {

class AsyncMutex {
 public:
  class Guard {
   public:
    Guard() = default;
    explicit Guard(AsyncMutex* owner) : owner_(owner) {}
    Guard(Guard&& other) noexcept : owner_(std::exchange(other.owner_, nullptr)) {}
    Guard& operator=(Guard&& other) noexcept {
      release();
      owner_ = std::exchange(other.owner_, nullptr);
      return *this;
    }
    ~Guard() { release(); }
    void release() {
      if (owner_) owner_->unlock();
      owner_ = nullptr;
    }

   private:
    AsyncMutex* owner_ = nullptr;
  };

  asio::awaitable<Guard> lock() {
    if (!locked_) {
      locked_ = true;
      co_return Guard(this);
    }
    AsyncEvent turn(co_await asio::this_coro::executor);
    waiters_.push_back(&turn);
    co_await turn.wait();  // unlock() hands the lock over directly
    co_return Guard(this);
  }

  bool locked() const { return locked_; }

 private:
  void unlock() {
    if (waiters_.empty()) {
      locked_ = false;
      return;
    }
    AsyncEvent* next = waiters_.front();
    waiters_.pop_front();
    next->notify();  // stays locked: ownership passes to `next`
  }

  bool locked_ = false;
  std::deque<AsyncEvent*> waiters_;
};

}  // namespace runnel
