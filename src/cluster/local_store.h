#pragma once
// The metadata store of a single node: etcd's semantics (see LocalKvState) kept
// in memory and made durable in a directory (see LocalJournal). Every write is
// fdatasynced before its callback runs. One worker thread applies operations in
// issue order, batches the journal writes of whatever queued meanwhile into one
// fdatasync, and posts the results to the executor.
//
// Sessions never expire while the process runs (nothing else could keep them
// alive), and their keys do not survive a restart. Watches can start at any
// revision still in the in-memory history (the last history_limit events, and
// nothing from before the store was opened); older ones fail with kCompacted.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <asio/any_io_executor.hpp>

#include "cluster/callback_gate.h"
#include "cluster/health_tracker.h"
#include "cluster/local_journal.h"
#include "cluster/local_kv_state.h"
#include "cluster/metadata_store.h"

namespace runnel::cluster {

struct LocalStoreOptions {
  std::string dir;                                // created if missing; one store per dir
  size_t history_limit = 10000;                   // events kept for watches that start in the past
  uint64_t journal_roll_bytes = 16 * 1024 * 1024; // past this the journal is folded into a snapshot
  int64_t progress_interval_ms = 1000;            // empty watch batches, as etcd's progress reports
};

class LocalStore final : public MetadataStore {
 public:
  // Loads the directory on the calling thread, so that a damaged store is a
  // startup error: throws std::runtime_error with a one-line message.
  LocalStore(asio::any_io_executor executor, LocalStoreOptions options);
  ~LocalStore() override;

  std::string describe() const override { return "local (" + options_.dir + ")"; }
  void get(const std::string& key, bool prefix, GetCallback done) override;
  void txn(Txn txn, TxnCallback done) override;
  void open_session(int64_t ttl_ms, int64_t keepalive_interval_ms, SessionCallback opened,
                    std::function<void()> lost) override;
  void close_session(int64_t lease, DoneCallback done) override;
  std::unique_ptr<WatchHandle> watch(const std::string& prefix, int64_t from_revision, WatchCallback on_events,
                                     std::function<void(StoreStatus)> failed) override;
  StoreHealth health() const override;

 private:
  struct Watcher {
    std::string prefix;
    std::string range_end;
    int64_t start = 0;  // events before this revision are not for it
    WatchCallback on_events;
    LiveFlag live;
  };
  // Posted after the batch is durable; `error` is set when the journal write failed.
  using Completion = std::function<void(const StoreStatus& error)>;

  void submit(std::function<void()> job);
  void run();
  void run_batch(std::deque<std::function<void()>> jobs);
  // Worker thread: a write made `events` at the current revision.
  void commit(std::vector<WatchEvent> events);
  void add_watcher(Watcher watcher, std::function<void(StoreStatus)> failed);
  void report_progress();
  void complete(Completion completion) { completions_.push_back(std::move(completion)); }
  StoreStatus failed_status() const { return {StoreCode::kUnavailable, failure_}; }

  const LocalStoreOptions options_;
  CallbackGate gate_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;

  // Worker thread only, after construction.
  LocalKvState state_;
  LocalJournal journal_;
  std::deque<std::pair<int64_t, WatchEvent>> history_;
  int64_t history_start_ = 0;  // the oldest revision whose events are all in history_
  std::vector<Watcher> watchers_;
  std::vector<Completion> completions_;
  std::string failure_;  // set once a disk write failed: the store then refuses everything
  int64_t next_lease_ = 0;

  HealthTracker health_;
  std::thread worker_;
};

}  // namespace runnel::cluster
