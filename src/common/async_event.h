#pragma once
// A one-shot-at-a-time wake-up signal for coroutines on one event loop: a timer
// that never expires on its own, cancelled to wake the waiter. A notify() that
// arrives before wait() is remembered, so no wake-up is lost.
#include <chrono>

#include <asio/awaitable.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

namespace runnel {

class AsyncEvent {
 public:
  explicit AsyncEvent(const asio::any_io_executor& executor) : timer_(executor) {}

  void notify() {
    pending_ = true;
    timer_.cancel();
  }

  // Waits for notify() or the deadline; returns true if notified.
  asio::awaitable<bool> wait_until(std::chrono::steady_clock::time_point deadline) {
    if (!pending_) {
      timer_.expires_at(deadline);
      asio::error_code ec;
      co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    const bool notified = pending_;
    pending_ = false;
    co_return notified;
  }

  asio::awaitable<void> wait() {
    co_await wait_until(std::chrono::steady_clock::time_point::max());
  }

 private:
  asio::steady_timer timer_;
  bool pending_ = false;
};

}  // namespace runnel::server
