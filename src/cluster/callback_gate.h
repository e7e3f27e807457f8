#pragma once
// Delivers a store's callbacks on its executor, and only while the store lives:
// close() (from the store's destructor, on the executor's thread) makes every
// callback still queued a no-op, so none runs after the store is gone.
#include <atomic>
#include <functional>
#include <memory>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/post.hpp>

#include "cluster/metadata_store.h"

namespace runnel::cluster {

class CallbackGate {
 public:
  explicit CallbackGate(asio::any_io_executor executor)
      : executor_(std::move(executor)), open_(std::make_shared<std::atomic<bool>>(true)) {}

  // Thread-safe. `fn` runs later on the executor, never inside this call.
  void post(std::function<void()> fn) const {
    asio::post(executor_, [open = open_, fn = std::move(fn)] {
      if (open->load(std::memory_order_acquire)) fn();
    });
  }

  // Runs the functions in order in one handler, stopping if the gate closes
  // midway (a callback may destroy the store).
  void post_all(std::vector<std::function<void()>> fns) const {
    if (fns.empty()) return;
    asio::post(executor_, [open = open_, fns = std::move(fns)] {
      for (const auto& fn : fns) {
        if (!open->load(std::memory_order_acquire)) return;
        fn();
      }
    });
  }

  void close() { open_->store(false, std::memory_order_release); }
  bool is_open() const { return open_->load(std::memory_order_acquire); }

 private:
  asio::any_io_executor executor_;
  std::shared_ptr<std::atomic<bool>> open_;
};

// Set false when a watch handle is destroyed: its queued callbacks are dropped.
using LiveFlag = std::shared_ptr<std::atomic<bool>>;
inline LiveFlag make_live_flag() { return std::make_shared<std::atomic<bool>>(true); }

// The handle both stores return: destroying it ends the watch.
class FlagWatchHandle final : public WatchHandle {
 public:
  explicit FlagWatchHandle(LiveFlag live) : live_(std::move(live)) {}
  ~FlagWatchHandle() override { live_->store(false, std::memory_order_release); }

 private:
  LiveFlag live_;
};

}  // namespace runnel::cluster
