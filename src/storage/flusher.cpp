#include "storage/flusher.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <unordered_map>

#include "storage/log.h"

namespace runnel::storage {

Flusher::Flusher(size_t max_pending, int sync_threads)
    : max_pending_(std::max<size_t>(max_pending, 1)), sync_workers_(std::max(sync_threads, 1)) {
  thread_ = std::thread([this] { run(); });
}

Flusher::~Flusher() { stop(); }

void Flusher::request(std::shared_ptr<Log> log, int64_t target_offset, Callback done) {
  std::unique_lock lock(mu_);
  space_cv_.wait(lock, [this] { return stopping_ || pending_.size() < max_pending_; });
  if (stopping_) {
    lock.unlock();
    done(log->durable_offset(), ErrorCode::kKafkaStorageError);
    return;
  }
  pending_.push_back(Request{std::move(log), target_offset, std::move(done)});
  work_cv_.notify_one();
}

void Flusher::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  work_cv_.notify_all();
  space_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

uint64_t Flusher::flush_calls() const {
  std::lock_guard lock(mu_);
  return flush_calls_;
}

void Flusher::run() {
  std::vector<Request> batch;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      work_cv_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
      if (pending_.empty()) return;  // stopping and drained
      batch.swap(pending_);          // take everything that queued up during the last fsync
    }
    space_cv_.notify_all();

    // One flush per distinct log covers every request for it. With several
    // logs, all their write-back starts before the first fdatasync waits
    // (16 partitions: measured in bench/performance-notes.md), and the
    // fdatasyncs run side by side (128 partitions: docs/performance.md).
    std::unordered_map<Log*, size_t> index;  // log -> its place in logs
    std::vector<Log*> logs;                  // the distinct ones, in request order
    for (const auto& r : batch)
      if (index.emplace(r.log.get(), logs.size()).second) logs.push_back(r.log.get());
    if (logs.size() > 1)
      for (Log* log : logs) log->start_writeback();
    std::vector<int64_t> durable(logs.size());
    sync_workers_.for_each(logs.size(), [&](size_t i) {
      const auto started = std::chrono::steady_clock::now();
      durable[i] = logs[i]->flush();
      flush_latency_.observe(std::chrono::steady_clock::now() - started);
    });
    {
      std::lock_guard lock(mu_);
      flush_calls_ += logs.size();
    }
    for (auto& r : batch) {
      const int64_t d = durable[index[r.log.get()]];
      const ErrorCode error = d >= r.target_offset || !r.log->failed() ? ErrorCode::kNone : ErrorCode::kKafkaStorageError;
      try {
        r.done(d, error);
      } catch (const std::exception& e) {
        spdlog::error("flusher: completion callback threw: {}", e.what());
      }
    }
    batch.clear();
  }
}

}  // namespace runnel::storage
