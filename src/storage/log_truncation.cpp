// Truncation for replication (Kafka's UnifiedLog.truncateTo and
// truncateFullyAndStartAt): a follower of a new leader cuts its log back to
// where it diverged, or starts over at the leader's log start.
//
// Both hold the maintenance, flush and log mutexes throughout (a cleaning pass is
// told to stop first), so readers, appenders, the flusher and background jobs see
// the log either before or after, and are durable before they return.
//
// Crash safety of truncate_to(offset):
//   1. segments wholly at or above `offset` are renamed *.deleted, the last first,
//      the dir fsynced after each: a crash leaves a prefix of the log;
//   2. the segment holding `offset` is cut in memory only (Segment::cut_at): its
//      file keeps the bytes, so readers holding slices keep them, and is fsynced
//      whole (so a crash cannot tear them); a new segment starts at `offset`, and
//      from the moment its file is durable recovery cuts the old one at that base
//      offset (segments never overlap), so the bytes can never come back;
//   3. producer snapshots above `offset` are deleted; one dir fsync makes 2 and 3
//      durable;
//   4. the epoch cache is cut and written (atomically) last: before that, the old
//      file's extra entries are cut to the log end at the next open anyway.
// Any crash before the call returns leaves a log that opens cleanly (old data
// may survive: the call did not return); after it returns nothing above `offset`
// survives. truncate_fully_and_start_at first deletes the producer snapshots and
// the epoch file (a missing one is rebuilt from the batches at open, right for
// whatever a crash leaves), renames every segment the same way, creates the new
// one, fsyncs the dir and writes an empty epoch file; a crash between the last
// rename and the new segment leaves an empty log at the checkpointed log start.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "storage/commit_journal.h"
#include "storage/log.h"
#include "storage/segment.h"

namespace runnel::storage {

namespace {
int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}
}  // namespace

ErrorCode Log::truncate_to(int64_t offset) {
  if (offset < 0) {
    spdlog::warn("log {}: refusing truncation to negative offset {}", dir_, offset);
    return ErrorCode::kInvalidRequest;
  }
  if (offset < log_end_offset())
    if (auto error = forget_in_journal(); error != ErrorCode::kNone) return error;
  // A cleaning pass in progress stops at its next batch; retention finishes its pass.
  ++maintenance_aborts_;
  std::lock_guard maintenance(maintenance_mu_);
  --maintenance_aborts_;
  // No flush may raise the durable offset past the cut with a target taken before it.
  std::lock_guard flush_lock(flush_mu_);
  std::lock_guard lock(mu_);
  if (failed_ || closed_) return ErrorCode::kKafkaStorageError;
  if (offset >= log_end_offset_) return ErrorCode::kNone;
  if (offset <= log_start_offset_) return truncate_fully_locked(offset, wall_ms());
  return truncate_to_locked(offset, wall_ms());
}

ErrorCode Log::truncate_fully_and_start_at(int64_t offset) {
  if (offset < 0) {
    spdlog::warn("log {}: refusing to start at negative offset {}", dir_, offset);
    return ErrorCode::kInvalidRequest;
  }
  if (auto error = forget_in_journal(); error != ErrorCode::kNone) return error;
  ++maintenance_aborts_;
  std::lock_guard maintenance(maintenance_mu_);
  --maintenance_aborts_;
  std::lock_guard flush_lock(flush_mu_);
  std::lock_guard lock(mu_);
  if (failed_ || closed_) return ErrorCode::kKafkaStorageError;
  return truncate_fully_locked(offset, wall_ms());
}

ErrorCode Log::forget_in_journal() {
  // The log is synced and the journal's earlier items for it are void before any
  // byte is cut, so a replay after a crash cannot bring removed batches back, nor
  // lose a journaled one (it is in the synced log).
  if (!journal_) return ErrorCode::kNone;
  if (auto ec = journal_->forget(this, topic_id_, partition_dir_name(dir_))) {
    std::lock_guard lock(mu_);
    return fail_locked("truncation (commit journal)", ec);
  }
  return ErrorCode::kNone;
}

ErrorCode Log::truncate_to_locked(int64_t offset, int64_t now_ms) {
  spdlog::info("log {}: truncating to offset {} (log end offset was {})", dir_, offset, log_end_offset_);
  // The segment holding `offset` exists: the first one starts at or below the log start, which is below `offset`.
  auto first_doomed = segments_.lower_bound(offset);
  if (first_doomed == segments_.begin()) return truncate_fully_locked(offset, now_ms);  // never, but never UB
  const std::shared_ptr<Segment> cut = std::prev(first_doomed)->second;
  const bool cut_was_active = first_doomed == segments_.end();
  std::vector<std::shared_ptr<Segment>> doomed;
  for (auto it = first_doomed; it != segments_.end(); ++it) doomed.push_back(it->second);
  segments_.erase(first_doomed, segments_.end());
  for (const auto& seg : doomed) std::erase(unsynced_rolled_, seg);
  if (auto ec = retire_segments_durably_locked(std::move(doomed), now_ms)) return fail_locked("truncation", ec);

  bool removed = false;
  if (auto ec = cut->cut_at(offset, removed)) return fail_locked("truncation", ec);
  if (removed || cut->has_stale_tail()) {
    // The cut segment keeps its old bytes on disk: never append there again. A new
    // segment at `offset` takes the appends and bounds the old one at recovery. The
    // file is fsynced first, whole: no crash can then tear its removed bytes into
    // something recovery would take for corruption below the bound.
    if (auto ec = cut->sync_log()) return fail_locked("truncation", ec);
    if (auto ec = cut->become_inactive()) return fail_locked("truncation", ec);
    if (cut_was_active) unsynced_rolled_.push_back(cut);
    std::shared_ptr<Segment> fresh;
    if (auto ec = Segment::create(env_, dir_, offset, config_, fresh)) return fail_locked("truncation", ec);
    segments_[offset] = fresh;
  } else if (!cut_was_active) {
    if (auto ec = cut->become_active()) return fail_locked("truncation", ec);  // preallocated indexes again
  }

  log_end_offset_ = offset;
  durable_offset_ = std::min(durable_offset_.load(), offset);
  synced_offset_ = std::min(synced_offset_.load(), offset);
  durable_position_ = -1;
  high_watermark_ = std::min(high_watermark_.load(), offset);
  if (cleaner_checkpoint_ > offset) cleaner_checkpoint_ = offset;
  rebuild_producer_state_locked(offset);  // also deletes the snapshots above `offset`
  if (auto ec = env_.sync_dir(dir_)) return fail_locked("truncation", ec);

  epochs_.truncate_from_end(offset);
  if (auto ec = epochs_.persist()) return fail_locked("truncation (leader-epoch-checkpoint)", ec);
  return ErrorCode::kNone;
}

ErrorCode Log::truncate_fully_locked(int64_t offset, int64_t now_ms) {
  spdlog::info("log {}: removing every segment and starting at offset {} (log offsets were [{}, {}))", dir_, offset,
               log_start_offset_, log_end_offset_);
  // What describes the old data goes first (made durable by the first rename's dir
  // fsync): producer snapshots, and the epoch file, which a restart rebuilds from
  // whatever batches a crash leaves; loaded beside the new segment they would be wrong.
  remove_snapshots_above_locked(-1);
  producers_.clear();
  epochs_.clear();
  if (auto ec = epochs_.remove_file()) return fail_locked("truncation (leader-epoch-checkpoint)", ec);
  std::vector<std::shared_ptr<Segment>> doomed;
  for (const auto& [base, seg] : segments_) doomed.push_back(seg);
  // The map changes only once the new segment exists: it is never empty, even offline.
  if (auto ec = retire_segments_durably_locked(std::move(doomed), now_ms)) return fail_locked("truncation", ec);
  std::shared_ptr<Segment> fresh;
  if (auto ec = Segment::create(env_, dir_, offset, config_, fresh)) return fail_locked("truncation", ec);
  segments_.clear();
  unsynced_rolled_.clear();
  segments_[offset] = fresh;

  log_start_offset_ = log_end_offset_ = offset;
  durable_offset_ = offset;
  synced_offset_ = offset;
  durable_position_ = -1;
  high_watermark_ = offset;
  if (cleaner_checkpoint_ > offset) cleaner_checkpoint_ = offset;
  if (auto ec = env_.sync_dir(dir_)) return fail_locked("truncation", ec);
  if (auto ec = epochs_.persist(/*force=*/true)) return fail_locked("truncation (leader-epoch-checkpoint)", ec);
  return ErrorCode::kNone;
}

std::error_code Log::retire_segments_durably_locked(std::vector<std::shared_ptr<Segment>> doomed, int64_t now_ms) {
  std::sort(doomed.begin(), doomed.end(),
            [](const auto& a, const auto& b) { return a->base_offset() > b->base_offset(); });
  int64_t due = 0;
  if (__builtin_add_overflow(now_ms, std::max<int64_t>(config_.file_delete_delay_ms, 0), &due)) due = INT64_MAX;
  for (auto& seg : doomed) {
    // Renamed, not removed: readers holding the segment keep its open file.
    if (auto ec = seg->change_suffix(".deleted")) return ec;
    if (auto ec = env_.sync_dir(dir_)) return ec;
    pending_deletes_.push_back({due, std::move(seg)});
  }
  return {};
}

}  // namespace runnel::storage
