#pragma once
// Group commit: one background thread that fsyncs each log once for all the
// durability requests that arrived while the previous round of fsyncs ran;
// the distinct logs of a round are synced side by side (SyncWorkers).
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "common/error_code.h"
#include "metrics/histogram.h"
#include "storage/sync_workers.h"

namespace runnel::storage {

class Log;

class Flusher {
 public:
  // done(durable_offset, error) runs on the flusher thread; re-post to your event loop.
  using Callback = std::function<void(int64_t durable_offset, ErrorCode error)>;

  // sync_threads: fsyncs of distinct logs that may run at once; 1 syncs them
  // one after another. The broker passes log.flush.threads.
  explicit Flusher(size_t max_pending = 1 << 16, int sync_threads = 1);
  ~Flusher();  // stop()
  Flusher(const Flusher&) = delete;
  Flusher& operator=(const Flusher&) = delete;

  // Asks for `log` to be durable up to target_offset (exclusive end offset). If already
  // durable, done is still called (from the flusher thread). When the queue is full the
  // caller blocks until there is room (back-pressure, not an unbounded queue).
  // After stop(), done is called at once on the caller's thread with kKafkaStorageError.
  void request(std::shared_ptr<Log> log, int64_t target_offset, Callback done);

  // Completes the pending requests, then joins the thread. Idempotent.
  void stop();

  uint64_t flush_calls() const;  // number of Log::flush() calls made (for tests/metrics)
  // Duration of each Log::flush() (fsync of the segment, indexes, dir): runnel_fsync_duration_seconds.
  const metrics::Histogram& flush_latency() const { return flush_latency_; }

 private:
  struct Request {
    std::shared_ptr<Log> log;
    int64_t target_offset;
    Callback done;
  };
  void run();

  const size_t max_pending_;
  mutable std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable space_cv_;
  std::vector<Request> pending_;
  bool stopping_ = false;
  uint64_t flush_calls_ = 0;
  metrics::Histogram flush_latency_;
  SyncWorkers sync_workers_;
  std::thread thread_;  // last: starts once everything above exists
};

}  // namespace runnel::storage
