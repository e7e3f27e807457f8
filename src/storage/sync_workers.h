#pragma once
// A small pool that runs one round of independent blocking calls (the fsyncs
// of distinct logs) side by side. A device serves concurrent fdatasyncs far
// better than one after another: 128 files, 16 KiB each, on this project's
// 2-core VM, 7.6k syncs/s from one thread and 21.7k/s from 16 (fio, see
// docs/performance.md). The threads spend their time blocked in the kernel,
// not on a core, so their number follows the device, not the CPU count.
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace runnel::storage {

class SyncWorkers {
 public:
  // threads: how many calls may run at once, the caller's thread included
  // (1: everything runs on the caller, one after another).
  explicit SyncWorkers(int threads);
  ~SyncWorkers();
  SyncWorkers(const SyncWorkers&) = delete;
  SyncWorkers& operator=(const SyncWorkers&) = delete;

  // Runs task(0) ... task(count - 1), each once, spread over the pool and the
  // caller; returns when all have returned. task must not throw. One round at
  // a time: for_each is called from a single thread.
  void for_each(size_t count, const std::function<void(size_t)>& task);

 private:
  void help();
  void drain(const std::function<void(size_t)>& task, size_t count);

  std::mutex mu_;
  std::condition_variable start_cv_;
  std::condition_variable done_cv_;
  const std::function<void(size_t)>* task_ = nullptr;
  size_t count_ = 0;
  std::atomic<size_t> next_{0};
  size_t active_ = 0;  // helpers inside the current round
  uint64_t round_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace runnel::storage
