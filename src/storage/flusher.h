#pragma once
// Group commit: one background thread that makes each log durable once for all
// the durability requests that arrived while the previous round ran. With a
// commit journal (use_journal), a round copies every log's new batches into
// one journal record and fdatasyncs only the journal; the logs themselves are
// fsynced at checkpoints, in the background, while the journal goes on in its
// other file. Without a journal, for a log with much new data, or after a log
// rolled a segment, the round fsyncs the logs, side by side (SyncWorkers).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/error_code.h"
#include "metrics/histogram.h"
#include "storage/commit_journal.h"
#include "storage/sync_workers.h"

namespace runnel::storage {

class Log;

struct JournalPolicy {
  // A checkpoint (switch journal files, fsync the logs journaled in the one
  // left behind) once the journal holds this many bytes (log.journal.checkpoint.bytes) ...
  int64_t checkpoint_bytes = 64 << 20;
  // ... or this long after the last one (log.journal.checkpoint.interval.ms).
  int64_t checkpoint_interval_ms = 2000;
  // A log with more new bytes than this in a round is fsynced itself: writing
  // them twice would cost more than its own fdatasync (log.journal.max.log.bytes).
  int64_t max_log_bytes = 256 << 10;
};

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

  // From now on, rounds go through `journal` (see the top). Call before the
  // first request; the journal must have been replayed into the logs.
  void use_journal(std::shared_ptr<CommitJournal> journal, JournalPolicy policy);

  // Completes the pending requests, then joins the thread. Idempotent.
  void stop();

  uint64_t flush_calls() const;  // number of Log::flush() calls made (for tests/metrics)
  uint64_t journal_commits() const;  // journal records written (one fdatasync each)
  uint64_t journal_checkpoints() const;
  // Duration of each Log::flush() (fsync of the segment, indexes, dir): runnel_fsync_duration_seconds.
  const metrics::Histogram& flush_latency() const { return flush_latency_; }
  // Duration of each journal record's write + fdatasync: runnel_journal_commit_duration_seconds.
  const metrics::Histogram& journal_latency() const { return journal_latency_; }

 private:
  struct Request {
    std::shared_ptr<Log> log;
    int64_t target_offset;
    Callback done;
  };
  void run();
  // Journals what it can of `logs` (one record, one fdatasync); fills durable[i]
  // for those. Returns the indexes of the logs still to fsync themselves.
  std::vector<size_t> journal_round(const std::vector<std::shared_ptr<Log>>& logs,
                                    const std::vector<int64_t>& wanted, std::vector<int64_t>& durable);
  // Flushes logs[i] for each i in `which` on `pool`, setting durable[i].
  void sync_logs(SyncWorkers& pool, const std::vector<std::shared_ptr<Log>>& logs, const std::vector<size_t>& which,
                 std::vector<int64_t>& durable);
  void maybe_checkpoint();

  const size_t max_pending_;
  mutable std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable space_cv_;
  std::vector<Request> pending_;
  bool stopping_ = false;
  uint64_t flush_calls_ = 0;
  uint64_t journal_commits_ = 0;
  uint64_t journal_checkpoints_ = 0;
  // Owned by the flusher thread once set (use_journal is called before any request).
  std::shared_ptr<CommitJournal> journal_;
  JournalPolicy journal_policy_;
  // Since the last switch. Weak: a removed log's files must close (and free
  // their space) without waiting for a checkpoint; it needs no sync then.
  std::unordered_map<Log*, std::weak_ptr<Log>> journaled_logs_;
  std::chrono::steady_clock::time_point last_checkpoint_ = std::chrono::steady_clock::now();
  // A checkpoint syncs the logs of the file left behind on its own thread, so
  // rounds go on meanwhile; the next one starts only after it is done.
  std::thread checkpoint_thread_;
  std::atomic<bool> checkpoint_running_{false};
  SyncWorkers checkpoint_workers_;
  metrics::Histogram flush_latency_;
  metrics::Histogram journal_latency_;
  SyncWorkers sync_workers_;
  std::thread thread_;  // last: starts once everything above exists
};

}  // namespace runnel::storage
