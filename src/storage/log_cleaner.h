#pragma once
// Log compaction (cleanup.policy=compact), after Kafka's LogCleaner: a background
// thread picks the compacted log with the highest dirty ratio (or one past
// max.compaction.lag.ms, or whose tombstones are due), maps every key of the dirty
// range to its latest offset, and rewrites the closed segments group by group
// (groups up to segment.bytes) keeping the latest record per key. Offsets and
// batch metadata are preserved; compressed batches are recompressed with their
// codec; tombstones get a delete horizon (KIP-534) and go after
// delete.retention.ms; the last batch of each live producer is kept (possibly
// empty) so producer state survives. Crash safety is Kafka's: .cleaned -> .swap
// -> plain names, resolved when the log is opened.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

namespace runnel::storage {

class Log;
class LogManager;

struct LogCleanerOptions {
  bool enabled = true;                // log.cleaner.enable
  int64_t backoff_ms = 15000;         // log.cleaner.backoff.ms
  size_t map_budget_bytes = 64 << 20; // memory for the key -> offset map of one pass
};

struct CleanResult {
  bool cleaned = false;     // a pass ran and swapped segments in
  int64_t end_offset = -1;  // first offset not covered (the new cleaner checkpoint)
  size_t groups = 0;
  int64_t records_read = 0;
  int64_t records_kept = 0;
  int64_t bytes_before = 0;
  int64_t bytes_after = 0;
};

class LogCleaner {
 public:
  LogCleaner(LogManager& logs, LogCleanerOptions options);
  ~LogCleaner();  // stop()
  LogCleaner(const LogCleaner&) = delete;
  LogCleaner& operator=(const LogCleaner&) = delete;

  void start();
  void stop();  // aborts a pass in progress (its log stays as it was) and joins
  void wake();

  // One round on the caller's thread: cleans the filthiest eligible log.
  bool clean_filthiest(int64_t now_ms);

  // Cleans one log now if it is compacted and has anything to clean (tests call
  // this directly; `force` ignores min.cleanable.dirty.ratio).
  static CleanResult clean(Log& log, int64_t now_ms, bool force, const std::atomic<bool>* stop = nullptr,
                           size_t map_budget_bytes = 64 << 20);

 private:
  void run();

  LogManager& logs_;
  const LogCleanerOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool woken_ = false;
  std::atomic<bool> abort_{false};
  std::thread thread_;
};

}  // namespace runnel::storage
