#include "storage/sync_workers.h"

namespace runnel::storage {

SyncWorkers::SyncWorkers(int threads) {
  for (int i = 1; i < threads; ++i) threads_.emplace_back([this] { help(); });
}

SyncWorkers::~SyncWorkers() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  start_cv_.notify_all();
  for (auto& thread : threads_) thread.join();
}

void SyncWorkers::drain(const std::function<void(size_t)>& task, size_t count) {
  for (size_t i = next_.fetch_add(1); i < count; i = next_.fetch_add(1)) task(i);
}

void SyncWorkers::for_each(size_t count, const std::function<void(size_t)>& task) {
  if (threads_.empty() || count <= 1) {
    for (size_t i = 0; i < count; ++i) task(i);
    return;
  }
  {
    std::lock_guard lock(mu_);
    task_ = &task;
    count_ = count;
    next_ = 0;
    ++round_;
  }
  // Wake no more helpers than there are calls beyond the caller's own.
  if (count - 1 >= threads_.size()) {
    start_cv_.notify_all();
  } else {
    for (size_t i = 0; i + 1 < count; ++i) start_cv_.notify_one();
  }
  drain(task, count);
  std::unique_lock lock(mu_);
  // Every call has been claimed; wait for the helpers still running theirs.
  done_cv_.wait(lock, [this] { return active_ == 0; });
  task_ = nullptr;
  count_ = 0;
}

void SyncWorkers::help() {
  uint64_t seen = 0;
  std::unique_lock lock(mu_);
  for (;;) {
    start_cv_.wait(lock, [&] { return stopping_ || round_ != seen; });
    if (stopping_) return;
    seen = round_;
    // A helper waking after its round ended finds count_ 0 (or a new round).
    if (task_ == nullptr) continue;
    const auto* task = task_;
    const size_t count = count_;
    ++active_;
    lock.unlock();
    drain(*task, count);
    lock.lock();
    if (--active_ == 0) done_cv_.notify_all();
  }
}

}  // namespace runnel::storage
