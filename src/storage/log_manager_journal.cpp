// Startup: what the commit journal holds that the logs lack after their own
// recovery (their files were not yet synced when the machine stopped) is
// appended back, then those logs are fsynced and the journal starts over.
#include <spdlog/spdlog.h>

#include <chrono>
#include <map>
#include <set>

#include "storage/log_manager.h"
#include "storage/record_batch.h"

namespace runnel::storage {

namespace {
int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Where in `batches` the first batch ending at or after `end` starts (size() when none).
size_t first_batch_from(std::span<const uint8_t> batches, int64_t end) {
  size_t at = 0;
  while (batches.size() - at >= kBatchHeaderSize) {
    const BatchHeader header = parse_batch_header(batches.subspan(at));
    const auto size = static_cast<size_t>(header.total_size());
    if (header.batch_length <= 0 || batches.size() - at < size) break;
    if (header.last_offset() >= end) return at;
    at += size;
  }
  return batches.size();
}
}  // namespace

std::error_code LogManager::replay_journal(const std::vector<CommitJournal::Item>& items) {
  // A forget item voids the items before it for the same log.
  std::map<std::pair<std::string, Uuid>, size_t> last_forget;
  for (size_t i = 0; i < items.size(); ++i)
    if (items[i].kind == CommitJournal::ItemKind::kForget) last_forget[{items[i].name, items[i].topic_id}] = i;

  std::set<std::shared_ptr<Log>> replayed;
  int64_t batches_bytes = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    const auto& item = items[i];
    if (item.kind != CommitJournal::ItemKind::kBatches) continue;
    if (auto f = last_forget.find({item.name, item.topic_id}); f != last_forget.end() && f->second > i) continue;
    const auto parsed = parse_partition_dir_name(item.name);
    if (!parsed) continue;
    std::shared_ptr<Log> log;
    {
      std::lock_guard lock(mu_);
      auto it = partitions_.find(*parsed);
      // Gone, or another topic of the same name since: nothing to restore.
      if (it == partitions_.end() || it->second.topic_id != item.topic_id) continue;
      log = it->second.log;
    }
    const int64_t end = log->log_end_offset();
    const std::span<const uint8_t> all(item.batches);
    const size_t from = first_batch_from(all, end);
    if (from == all.size()) continue;  // the log has all of it
    const BatchHeader first = parse_batch_header(all.subspan(from));
    if (first.base_offset != end) {
      spdlog::error("commit journal: {} ends at offset {} but the journal continues at {}: not replayed", item.name,
                    end, first.base_offset);
      continue;
    }
    const auto result = log->append_as_follower(all.subspan(from), wall_ms());
    if (result.error != ErrorCode::kNone) {
      spdlog::error("commit journal: appending offsets {}.. to {} failed: {}", end, item.name,
                    error_name(result.error));
      continue;
    }
    batches_bytes += static_cast<int64_t>(all.size() - from);
    replayed.insert(log);
  }
  for (const auto& log : replayed) {
    log->flush();
    if (log->failed()) return std::make_error_code(std::errc::io_error);
  }
  if (!replayed.empty())
    spdlog::warn("commit journal: restored {} bytes of acknowledged batches into {} partitions", batches_bytes,
                 replayed.size());
  return journal_->reset();
}

}  // namespace runnel::storage
