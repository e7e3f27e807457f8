// Log's leader epoch cache (Kafka's LeaderEpochFileCache as UnifiedLog uses it):
// loading and rebuilding it at open, writing it, and OffsetForLeaderEpoch.
#include <spdlog/spdlog.h>

#include "storage/log.h"
#include "storage/segment.h"

namespace runnel::storage {

void Log::load_leader_epochs_locked(int64_t scanned_from) {
  const auto state = epochs_.load();
  if (state == LeaderEpochCache::LoadState::kOk) {
    // Entries past the recovered end describe data recovery cut off; batches
    // recovery scanned may carry epochs whose entry a crash kept from the file
    // (Kafka's LogSegment.recover assigns them the same way).
    epochs_.truncate_from_end(log_end_offset_);
    assign_epochs_from_batches_locked(scanned_from);
  } else {
    // Missing (a log from before epochs were kept, or new) or unreadable: the
    // batches carry their partitionLeaderEpoch; only the headers are read.
    assign_epochs_from_batches_locked(segments_.begin()->first);
    if (state == LeaderEpochCache::LoadState::kMalformed || !epochs_.empty())
      spdlog::warn("log {}: {} {}, rebuilt from the batch headers: {} epoch(s)", dir_,
                   state == LeaderEpochCache::LoadState::kMalformed ? "malformed" : "missing", kLeaderEpochCheckpointFile,
                   epochs_.entries().size());
  }
  epochs_.truncate_from_start(log_start_offset_);
  // A failure here is retried by flush() and close() (which take the log offline if it persists).
  (void)epochs_.persist(state == LeaderEpochCache::LoadState::kMalformed);
}

void Log::assign_epochs_from_batches_locked(int64_t from) {
  auto it = segments_.upper_bound(from);
  if (it != segments_.begin()) --it;
  for (bool first = true; it != segments_.end(); ++it, first = false) {
    const auto& seg = it->second;
    int64_t pos = first ? seg->position_for(from) : 0;
    while (pos + static_cast<int64_t>(kBatchHeaderSize) <= seg->size()) {
      BatchHeader h;
      if (auto ec = seg->read_header(pos, h)) {
        spdlog::warn("log {}: reading batch headers for leader epochs failed: {}", dir_, ec.message());
        return;
      }
      if (h.last_offset() >= from && h.partition_leader_epoch >= 0 &&
          h.partition_leader_epoch > epochs_.latest_epoch())
        epochs_.assign(h.partition_leader_epoch, h.base_offset);
      pos += h.total_size();
    }
  }
}

bool Log::persist_epochs() { return !epochs_.persist(); }

EpochEndOffset Log::end_offset_for_epoch(int32_t epoch) const {
  std::lock_guard lock(mu_);  // the cache and the log end seen together
  return epochs_.end_offset_for(epoch, log_end_offset_);
}

int32_t Log::latest_epoch() const { return epochs_.latest_epoch(); }

void Log::assign_epoch_start_offset(int32_t epoch, int64_t offset) {
  {
    std::lock_guard lock(mu_);
    if (epoch < 0 || epoch <= epochs_.latest_epoch() || offset != log_end_offset_) return;
    epochs_.assign(epoch, offset);
  }
  if (!persist_epochs()) spdlog::warn("log {}: writing {} failed; retried at the next flush", dir_, kLeaderEpochCheckpointFile);
}

std::vector<EpochEntry> Log::epoch_entries() const { return epochs_.entries(); }

}  // namespace runnel::storage
