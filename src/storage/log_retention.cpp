// Log retention (Kafka's UnifiedLog.deleteOldSegments) and the asynchronous
// removal of deleted segment files. Runs on the storage background thread.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "storage/log.h"
#include "storage/segment.h"

namespace runnel::storage {

size_t Log::apply_retention(int64_t now_ms) {
  std::lock_guard maintenance(maintenance_mu_);
  std::vector<std::shared_ptr<Segment>> doomed;
  int64_t new_start = 0;
  {
    std::lock_guard lock(mu_);
    if (failed_ || closed_) return 0;
    const bool by_delete = config_.cleanup_delete;
    int64_t size_excess = -1;
    if (by_delete && config_.retention_bytes >= 0) {
      int64_t total = 0;
      for (const auto& [base, seg] : segments_) total += seg->size();
      size_excess = total - config_.retention_bytes;
    }
    for (auto it = segments_.begin(); it != segments_.end(); ++it) {
      const auto& seg = it->second;
      const auto next = std::next(it);
      const bool last = next == segments_.end();
      const int64_t upper = last ? log_end_offset_ : next->first;
      // Never past the high watermark: the log start must not pass it.
      if (high_watermark() < upper || (last && seg->empty())) break;
      const bool below_start = !last && next->first <= log_start_offset_;
      // Time: the segment's largest timestamp (from its time index), as Kafka.
      int64_t expired_before = 0;
      const bool by_time = by_delete && config_.retention_ms >= 0 && seg->max_timestamp() >= 0 &&
                           !__builtin_sub_overflow(now_ms, config_.retention_ms, &expired_before) &&
                           seg->max_timestamp() < expired_before;
      bool by_size = false;
      if (size_excess >= 0 && size_excess - seg->size() >= 0) {
        by_size = true;
        size_excess -= seg->size();
      }
      if (!below_start && !by_time && !by_size) break;
      doomed.push_back(seg);
    }
    if (doomed.empty()) return 0;
    if (doomed.size() == segments_.size()) {
      // Everything expired: roll an empty active segment first (Kafka does the same).
      if (auto ec = roll_locked(log_end_offset_, now_ms)) {
        spdlog::error("log {}: cannot roll before retention: {}", dir_, ec.message());
        doomed.pop_back();
        if (doomed.empty()) return 0;
      }
    }
    for (const auto& seg : doomed) {
      segments_.erase(seg->base_offset());
      std::erase(unsynced_rolled_, seg);
    }
    set_log_start_locked(std::max(log_start_offset_, segments_.begin()->first));
    new_start = log_start_offset_;
  }
  persist_epochs();
  spdlog::info("log {}: retention removed {} segment(s), log start offset now {}", dir_, doomed.size(), new_start);
  const size_t count = doomed.size();
  retire_segments(std::move(doomed), now_ms);
  return count;
}

void Log::retire_segments(std::vector<std::shared_ptr<Segment>> doomed, int64_t now_ms) {
  int64_t delay = 0;
  {
    std::lock_guard lock(mu_);
    delay = std::max<int64_t>(config_.file_delete_delay_ms, 0);
  }
  // Renamed, not removed: a reader holding the segment keeps its open files; the
  // names are unlinked after file.delete.delay.ms.
  for (auto& seg : doomed) {
    if (auto ec = seg->change_suffix(".deleted")) {
      spdlog::warn("log {}: renaming segment {} for deletion failed: {}", dir_, seg->base_offset(), ec.message());
    }
  }
  std::lock_guard lock(mu_);
  int64_t due = 0;
  if (__builtin_add_overflow(now_ms, delay, &due)) due = INT64_MAX;
  for (auto& seg : doomed) pending_deletes_.push_back({due, std::move(seg)});
}

size_t Log::delete_expired_files(int64_t now_ms, bool force) {
  std::lock_guard maintenance(maintenance_mu_);
  if (retired_) return 0;  // a deleted log's dir goes whole; a closed one's at the next start
  std::vector<std::shared_ptr<Segment>> due;
  {
    std::lock_guard lock(mu_);
    std::erase_if(pending_deletes_, [&](PendingDelete& p) {
      if (!force && p.due_ms > now_ms) return false;
      due.push_back(std::move(p.segment));
      return true;
    });
  }
  for (const auto& seg : due) {
    if (auto ec = seg->unlink_files()) {
      spdlog::warn("log {}: removing deleted segment {} failed: {}", dir_, seg->base_offset(), ec.message());
    }
  }
  return due.size();
}

size_t Log::remove_expired_producers(int64_t now_ms, int64_t expiration_ms) {
  std::lock_guard maintenance(maintenance_mu_);
  if (retired_) return 0;
  std::vector<int64_t> stale;
  size_t removed = 0;
  std::string forgotten;
  {
    std::lock_guard lock(mu_);
    if (closed_) return 0;
    removed = producers_.remove_expired(now_ms, expiration_ms);
    if (removed > 0) forgotten = producers_.serialize_forgotten();
    // Keep the two newest snapshots: the newest may be torn by a crash before its fsync.
    while (snapshots_.size() > 2) {
      stale.push_back(*snapshots_.begin());
      snapshots_.erase(snapshots_.begin());
    }
  }
  for (int64_t offset : stale) (void)env_.remove(dir_ + "/" + snapshot_file_name(offset));
  // Kept across restarts, so that an expired producer coming back is told to reset.
  if (removed > 0) {
    if (auto ec = write_file_atomically(env_, dir_ + "/" + kForgottenProducersFile, forgotten))
      spdlog::warn("log {}: writing {} failed: {}", dir_, kForgottenProducersFile, ec.message());
  }
  return removed;
}

}  // namespace runnel::storage
