// Log's side of compaction: what the cleaner may clean, and the crash-safe swap
// of cleaned segments (Kafka's LocalLog.replaceSegments).
#include <spdlog/spdlog.h>

#include <algorithm>

#include "storage/log.h"
#include "storage/segment.h"

namespace runnel::storage {

CleaningView Log::cleaning_view(int64_t now_ms) const {
  std::lock_guard lock(mu_);
  CleaningView view;
  view.config = config_;
  view.log_start = log_start_offset_;
  view.delete_horizon_due = delete_horizon_due_;
  if (closed_ || failed_) return view;
  view.first_dirty = std::clamp(cleaner_checkpoint_ < 0 ? log_start_offset_ : cleaner_checkpoint_, log_start_offset_,
                                log_end_offset_);
  // Never the active segment, nothing past the high watermark, and no segment
  // holding records younger than min.compaction.lag.ms.
  int64_t limit = std::min(segments_.rbegin()->first, high_watermark());
  for (auto it = segments_.begin(); it != segments_.end(); ++it) {
    const auto next = std::next(it);
    if (next == segments_.end()) break;
    const int64_t end = next->first;
    const auto& seg = it->second;
    if (end <= log_start_offset_) continue;  // wholly below the log start: retention's
    if (end > limit) break;
    int64_t young = 0;  // records newer than this are within min.compaction.lag.ms
    if (end > view.first_dirty && config_.min_compaction_lag_ms > 0 &&
        !__builtin_sub_overflow(now_ms, config_.min_compaction_lag_ms, &young) && seg->max_timestamp() > young)
      break;
    view.segments.push_back({seg, it->first, end});
    if (end <= view.first_dirty) {
      view.clean_bytes += seg->size();
    } else {
      view.dirty_bytes += seg->size();
    }
  }
  view.first_uncleanable = view.segments.empty() ? view.first_dirty : view.segments.back().end;
  view.first_dirty = std::min(view.first_dirty, view.first_uncleanable);
  view.producer_last_offsets = producers_.last_offsets();
  return view;
}

std::error_code Log::replace_segments(const std::vector<std::shared_ptr<Segment>>& old,
                                      const std::shared_ptr<Segment>& cleaned, int64_t now_ms) {
  // 1. .cleaned -> .swap: from here a crash completes the swap at the next start.
  if (auto ec = cleaned->change_suffix(".swap")) return ec;
  if (auto ec = env_.sync_dir(dir_)) return ec;
  {
    // 2. The map switches over atomically for readers.
    std::lock_guard lock(mu_);
    bool intact = !closed_ && !failed_;
    for (const auto& seg : old) {
      auto it = segments_.find(seg->base_offset());
      intact = intact && it != segments_.end() && it->second == seg && seg != segments_.rbegin()->second;
    }
    if (!intact) {
      (void)cleaned->remove_files();
      return std::make_error_code(std::errc::operation_canceled);
    }
    for (const auto& seg : old) {
      segments_.erase(seg->base_offset());
      std::erase(unsynced_rolled_, seg);
    }
    segments_[cleaned->base_offset()] = cleaned;
  }
  // 3. The old files become *.deleted (readers keep their open files), then the
  // cleaned segment takes the plain names.
  retire_segments(old, now_ms);
  if (auto ec = cleaned->change_suffix("")) return ec;
  return env_.sync_dir(dir_);
}

void Log::set_cleaner_checkpoint(int64_t offset, int64_t delete_horizon_due) {
  std::lock_guard lock(mu_);
  cleaner_checkpoint_ = std::max(cleaner_checkpoint_, offset);
  delete_horizon_due_ = delete_horizon_due;
}

int64_t Log::cleaner_checkpoint() const {
  std::lock_guard lock(mu_);
  return cleaner_checkpoint_;
}

}  // namespace runnel::storage
