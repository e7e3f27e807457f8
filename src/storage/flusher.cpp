#include "storage/flusher.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <numeric>
#include <unordered_map>

#include "storage/log.h"

namespace runnel::storage {

Flusher::Flusher(size_t max_pending, int sync_threads)
    : max_pending_(std::max<size_t>(max_pending, 1)),
      checkpoint_workers_(std::clamp(sync_threads, 1, 8)),
      sync_workers_(std::max(sync_threads, 1)) {
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
  if (checkpoint_thread_.joinable()) checkpoint_thread_.join();
}

uint64_t Flusher::flush_calls() const {
  std::lock_guard lock(mu_);
  return flush_calls_;
}

uint64_t Flusher::journal_commits() const {
  std::lock_guard lock(mu_);
  return journal_commits_;
}

uint64_t Flusher::journal_checkpoints() const {
  std::lock_guard lock(mu_);
  return journal_checkpoints_;
}

void Flusher::use_journal(std::shared_ptr<CommitJournal> journal, JournalPolicy policy) {
  std::lock_guard lock(mu_);
  journal_ = std::move(journal);
  journal_policy_ = policy;
  last_checkpoint_ = std::chrono::steady_clock::now();
}

void Flusher::run() {
  std::vector<Request> batch;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      work_cv_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
      if (pending_.empty()) return;  // stopping and drained
      batch.swap(pending_);          // take everything that queued up during the last round
    }
    space_cv_.notify_all();

    // One flush per distinct log covers every request for it.
    std::unordered_map<Log*, size_t> index;  // log -> its place in logs
    std::vector<std::shared_ptr<Log>> logs;  // the distinct ones, in request order
    std::vector<int64_t> wanted;             // the highest target asked of each
    for (const auto& r : batch) {
      auto [it, added] = index.emplace(r.log.get(), logs.size());
      if (added) {
        logs.push_back(r.log);
        wanted.push_back(r.target_offset);
      } else {
        wanted[it->second] = std::max(wanted[it->second], r.target_offset);
      }
    }
    std::vector<int64_t> durable(logs.size());
    std::vector<size_t> direct;
    if (journal_ && !journal_->failed()) {
      direct = journal_round(logs, wanted, durable);
    } else {
      direct.resize(logs.size());
      std::iota(direct.begin(), direct.end(), 0);
    }
    sync_logs(sync_workers_, logs, direct, durable);

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
    if (journal_) maybe_checkpoint();
  }
}

std::vector<size_t> Flusher::journal_round(const std::vector<std::shared_ptr<Log>>& logs,
                                           const std::vector<int64_t>& wanted, std::vector<int64_t>& durable) {
  std::vector<size_t> direct;
  std::vector<std::pair<size_t, Log::UndurableCopy>> journaled;
  {
    std::lock_guard journal_lock(journal_->mutex());
    journal_->begin_record();
    for (size_t i = 0; i < logs.size(); ++i) {
      auto& record = journal_->begin_batches(logs[i]->topic_id(), partition_dir_name(logs[i]->dir()));
      const size_t before = record.size();
      auto copy = logs[i]->copy_undurable_batches(record);
      if (copy.end_offset >= 0 && static_cast<int64_t>(record.size() - before) > journal_policy_.max_log_bytes) {
        record.resize(before);  // cheaper as the log's own fsync
      } else if (copy.end_offset >= 0) {
        journaled.emplace_back(i, std::move(copy));
      }
      journal_->end_batches();
    }
    if (!journaled.empty()) {
      const auto started = std::chrono::steady_clock::now();
      const bool committed = !journal_->commit_record();
      journal_latency_.observe(std::chrono::steady_clock::now() - started);
      if (committed) {
        for (const auto& [i, copy] : journaled) {
          logs[i]->mark_journaled(copy);
          journaled_logs_[logs[i].get()] = logs[i];  // (a freed log's address may come back)
        }
        std::lock_guard lock(mu_);
        ++journal_commits_;
      }
    }
  }
  // Whatever the journal did not cover (too big, nothing copied, a failed
  // journal) is fsynced in the log itself.
  for (size_t i = 0; i < logs.size(); ++i) {
    durable[i] = logs[i]->durable_offset();
    if (durable[i] < wanted[i] && !logs[i]->failed()) direct.push_back(i);
  }
  return direct;
}

void Flusher::sync_logs(SyncWorkers& pool, const std::vector<std::shared_ptr<Log>>& logs,
                        const std::vector<size_t>& which, std::vector<int64_t>& durable) {
  if (which.empty()) return;
  // With several logs, all their write-back starts before the first fdatasync
  // waits (16 partitions: measured in bench/performance-notes.md), and the
  // fdatasyncs run side by side (128 partitions: docs/performance.md).
  if (which.size() > 1)
    for (size_t i : which) logs[i]->start_writeback();
  pool.for_each(which.size(), [&](size_t k) {
    const size_t i = which[k];
    const auto started = std::chrono::steady_clock::now();
    durable[i] = logs[i]->flush();
    flush_latency_.observe(std::chrono::steady_clock::now() - started);
  });
  std::lock_guard lock(mu_);
  flush_calls_ += which.size();
}

void Flusher::maybe_checkpoint() {
  if (checkpoint_thread_.joinable()) {
    if (checkpoint_running_) return;  // the next one waits for it
    checkpoint_thread_.join();
  }
  const auto now = std::chrono::steady_clock::now();
  const bool full = journal_->used_bytes() >= journal_policy_.checkpoint_bytes;
  const bool due = now - last_checkpoint_ >= std::chrono::milliseconds(journal_policy_.checkpoint_interval_ms);
  if (journaled_logs_.empty() || !(full || due)) return;
  last_checkpoint_ = now;
  std::vector<std::shared_ptr<Log>> logs;
  for (auto& [raw, weak] : journaled_logs_)
    if (auto log = weak.lock()) logs.push_back(std::move(log));
  journaled_logs_.clear();
  std::vector<size_t> all(logs.size());
  std::iota(all.begin(), all.end(), 0);
  if (auto ec = journal_->switch_files()) {
    // The journal is unusable (rounds sync the logs themselves from now on);
    // what it holds is made safe in the logs here.
    spdlog::error("commit journal: switching files failed: {}", ec.message());
    std::vector<int64_t> ignored(logs.size());
    sync_logs(sync_workers_, logs, all, ignored);
    return;
  }
  // Every log with records in the file left behind is synced past them before
  // the next switch overwrites it; records meanwhile go to the other file.
  checkpoint_running_ = true;
  checkpoint_thread_ = std::thread([this, logs = std::move(logs), all = std::move(all)] {
    std::vector<int64_t> ignored(logs.size());
    sync_logs(checkpoint_workers_, logs, all, ignored);
    {
      std::lock_guard lock(mu_);
      ++journal_checkpoints_;
    }
    checkpoint_running_ = false;
  });
}

}  // namespace runnel::storage
