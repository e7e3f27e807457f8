// Who owns the high watermark (the flusher on a single node, the caller in a
// cluster) and how the log start offset moves forward.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "storage/log.h"

namespace runnel::storage {

int64_t Log::set_high_watermark(int64_t offset) {
  std::lock_guard lock(mu_);
  if (hw_follows_flush_) return durable_offset_;
  // Kafka's updateHighWatermark: never below the log start nor past the log end.
  const int64_t hw = std::clamp(offset, log_start_offset_, log_end_offset_);
  high_watermark_ = hw;
  return hw;
}

void Log::init_high_watermark_locked(int64_t checkpointed) {
  high_watermark_ = std::clamp(checkpointed < 0 ? log_start_offset_ : checkpointed, log_start_offset_, log_end_offset_);
}

void Log::set_log_start_locked(int64_t offset) {
  log_start_offset_ = offset;
  // Epochs wholly below the log start are gone with their data (written by the caller).
  epochs_.truncate_from_start(offset);
}

int64_t Log::maybe_increment_log_start_offset(int64_t offset) {
  int64_t start = 0;
  bool moved = false;
  {
    std::lock_guard lock(mu_);
    const int64_t target = std::min(offset, high_watermark());
    if (!failed_ && !closed_ && target > log_start_offset_) {
      set_log_start_locked(target);
      moved = true;
      spdlog::info("log {}: log start offset now {} (the leader's)", dir_, target);
    }
    start = log_start_offset_;
  }
  if (moved) persist_epochs();
  return start;
}

ErrorCode Log::fail_locked(const char* what, std::error_code ec) {
  // As after a failed fsync: what is on disk is unknown, so the log goes offline (Kafka does the same).
  spdlog::error("log {}: {} failed, taking the log offline: {}", dir_, what, ec.message());
  failed_ = true;
  return ErrorCode::kKafkaStorageError;
}

}  // namespace runnel::storage
