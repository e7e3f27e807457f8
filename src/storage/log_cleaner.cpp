#include "storage/log_cleaner.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <string>
#include <unordered_map>

#include "storage/log.h"
#include "storage/log_manager.h"
#include "storage/record_codec.h"
#include "storage/segment.h"

namespace runnel::storage {
namespace {

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Key -> offset of its latest record in the dirty range (Kafka hashes keys with
// MD5; whole keys make collisions impossible).
struct OffsetMap {
  std::unordered_map<std::string, int64_t> offsets;
  size_t bytes = 0;
  void put(std::span<const uint8_t> key, int64_t offset) {
    auto [it, added] = offsets.try_emplace(std::string(key.begin(), key.end()), offset);
    if (added) {
      bytes += key.size() + 64;  // rough per-entry overhead
    } else {
      it->second = offset;
    }
  }
  // -1 when the key is not in the dirty range.
  int64_t get(std::span<const uint8_t> key) const {
    auto it = offsets.find(std::string(key.begin(), key.end()));
    return it == offsets.end() ? -1 : it->second;
  }
};

// Walks the whole batches of one segment from `pos`, calling f(header, bytes).
// Stops early when f returns false. Returns false on a read error.
template <typename F>
bool for_each_batch(const Segment& seg, int64_t pos, std::vector<uint8_t>& buf, F f) {
  const int64_t end = seg.size();
  while (pos + static_cast<int64_t>(kBatchHeaderSize) <= end) {
    BatchHeader h;
    if (seg.read_header(pos, h)) return false;
    if (h.total_size() < static_cast<int64_t>(kBatchHeaderSize) || pos + h.total_size() > end) return false;
    buf.resize(static_cast<size_t>(h.total_size()));
    if (seg.read_bytes(pos, buf)) return false;
    if (!f(h, std::span<const uint8_t>(buf))) return true;
    pos += h.total_size();
  }
  return true;
}

// Whether a log should be cleaned now; the higher the more urgent, < 0 = no.
double cleaning_score(const CleaningView& v, int64_t now_ms, bool force) {
  if (!v.config.cleanup_compact || v.segments.empty()) return -1;
  const int64_t total = v.clean_bytes + v.dirty_bytes;
  const bool tombstones_due = v.delete_horizon_due >= 0 && v.delete_horizon_due <= now_ms && total > 0;
  if (v.dirty_bytes == 0) return tombstones_due ? 0 : -1;
  const double ratio = static_cast<double>(v.dirty_bytes) / static_cast<double>(std::max<int64_t>(total, 1));
  if (force || ratio >= v.config.min_cleanable_dirty_ratio || tombstones_due) return ratio;
  // max.compaction.lag.ms: the first dirty segment's first batch is too old to wait.
  if (v.config.max_compaction_lag_ms < INT64_MAX) {
    for (const auto& s : v.segments) {
      if (s.end <= v.first_dirty) continue;
      BatchHeader first;
      int64_t horizon = 0;
      if (s.segment->size() >= static_cast<int64_t>(kBatchHeaderSize) && !s.segment->read_header(0, first) &&
          !__builtin_sub_overflow(now_ms, v.config.max_compaction_lag_ms, &horizon) && first.max_timestamp < horizon)
        return ratio;
      break;
    }
  }
  return -1;
}

// Rewrites one group of segments into one .cleaned segment.
class GroupCleaner {
 public:
  GroupCleaner(Log& log, const CleaningView& view, const OffsetMap& map, int64_t map_end, int64_t now_ms,
               CleanResult& result)
      : log_(log), view_(view), map_(map), map_end_(map_end), now_ms_(now_ms), result_(result) {}

  int64_t horizon_due() const { return horizon_due_; }

  std::error_code clean(const std::vector<CleaningView::Seg>& group, const std::atomic<bool>* stop) {
    std::shared_ptr<Segment> cleaned;
    if (auto ec = Segment::create(log_.env(), log_.dir(), group.front().base, view_.config, cleaned, ".cleaned"))
      return ec;
    std::vector<uint8_t> buf;
    std::error_code ec;
    for (size_t i = 0; i < group.size() && !ec; ++i) {
      const auto& seg = *group[i].segment;
      result_.bytes_before += seg.size();
      int64_t pos = 0;
      const bool last_segment = i + 1 == group.size();
      const bool ok = for_each_batch(seg, 0, buf, [&](const BatchHeader& h, std::span<const uint8_t> bytes) {
        pos += h.total_size();
        if ((stop && stop->load()) || log_.maintenance_aborted()) {
          ec = std::make_error_code(std::errc::operation_canceled);
          return false;
        }
        filter_batch(h, bytes, last_segment && pos == seg.size());
        if (out_.size() >= (1u << 20)) ec = flush(*cleaned);
        return !ec;
      });
      if (!ok && !ec) ec = std::make_error_code(std::errc::io_error);
    }
    if (!ec) ec = flush(*cleaned);
    if (!ec && cleaned->empty()) ec = std::make_error_code(std::errc::invalid_argument);  // cannot happen: last batch kept
    if (!ec) ec = cleaned->become_inactive();
    if (!ec) ec = cleaned->sync_log();
    if (!ec) ec = cleaned->sync_indexes();
    std::vector<std::shared_ptr<Segment>> old;
    for (const auto& s : group) old.push_back(s.segment);
    if (!ec) ec = log_.replace_segments(old, cleaned, now_ms_);
    if (ec) {
      (void)cleaned->remove_files();
      return ec;
    }
    result_.bytes_after += cleaned->size();
    return {};
  }

 private:
  bool keep(const BatchHeader& h, const RecordView& r) const {
    if (r.offset >= map_end_) return true;  // beyond what this pass mapped
    if (!r.key) return false;               // keyless records cannot be compacted (Kafka drops them)
    const int64_t latest = map_.get(*r.key);
    if (latest >= 0 && r.offset < latest) return false;
    if (r.value) return true;
    const int64_t horizon = delete_horizon_ms(h);  // a tombstone stays until its delete horizon
    return horizon < 0 || now_ms_ < horizon;
  }

  void filter_batch(const BatchHeader& h, std::span<const uint8_t> bytes, bool last_of_group) {
    DecodedBatch batch;
    std::string error;
    if (h.control() || !decode_batch(bytes, batch, &error)) {
      if (!h.control()) spdlog::warn("log {}: cleaner keeps undecodable batch at {}: {}", log_.dir(), h.base_offset, error);
      append_original(bytes);
      return;
    }
    std::vector<RecordView> kept;
    bool tombstones = false;
    for (const auto& r : batch.records) {
      if (!keep(h, r)) continue;
      kept.push_back(r);
      tombstones = tombstones || !r.value;
    }
    result_.records_read += static_cast<int64_t>(batch.records.size());
    result_.records_kept += static_cast<int64_t>(kept.size());
    int64_t horizon = delete_horizon_ms(h);
    const bool set_horizon = tombstones && horizon < 0;
    if (set_horizon && __builtin_add_overflow(now_ms_, std::max<int64_t>(view_.config.delete_retention_ms, 0), &horizon))
      horizon = INT64_MAX;
    if (tombstones) horizon_due_ = horizon_due_ < 0 ? horizon : std::min(horizon_due_, horizon);
    if (kept.size() == batch.records.size() && !set_horizon) {
      append_original(bytes);
      return;
    }
    if (kept.empty()) {
      // Empty batches keep a live producer's last sequence, and the group's end offset.
      const auto it = view_.producer_last_offsets.find(h.producer_id);
      const bool producer_last = h.producer_id >= 0 && it != view_.producer_last_offsets.end() &&
                                 it->second == h.last_offset();
      if (!producer_last && !last_of_group) return;
    }
    if (!encode_batch(h, kept, tombstones ? horizon : -1, out_)) {
      spdlog::warn("log {}: cleaner could not recompress batch at {}; keeping it whole", log_.dir(), h.base_offset);
      append_original(bytes);
    }
  }

  void append_original(std::span<const uint8_t> bytes) { out_.insert(out_.end(), bytes.begin(), bytes.end()); }

  std::error_code flush(Segment& cleaned) {
    if (out_.empty()) return {};
    std::vector<BatchLocation> locations;
    for (size_t pos = 0; pos + kBatchHeaderSize <= out_.size();) {
      BatchLocation loc{pos, parse_batch_header({out_.data() + pos, out_.size() - pos})};
      pos += loc.size();
      locations.push_back(loc);
    }
    auto ec = cleaned.append(out_, locations, now_ms_);
    out_.clear();
    return ec;
  }

  Log& log_;
  const CleaningView& view_;
  const OffsetMap& map_;
  const int64_t map_end_;
  const int64_t now_ms_;
  CleanResult& result_;
  std::vector<uint8_t> out_;
  int64_t horizon_due_ = -1;
};

}  // namespace

CleanResult LogCleaner::clean(Log& log, int64_t now_ms, bool force, const std::atomic<bool>* stop,
                              size_t map_budget_bytes) {
  CleanResult result;
  std::lock_guard maintenance(log.maintenance_mutex());
  if (log.maintenance_aborted()) return result;
  const CleaningView view = log.cleaning_view(now_ms);
  if (cleaning_score(view, now_ms, force) < 0) return result;

  // 1. Map every key of the dirty range to its latest offset (bounded memory: a
  // full map ends this pass early; the rest waits for the next one).
  OffsetMap map;
  int64_t map_end = view.first_dirty;
  std::vector<uint8_t> buf;
  bool full = false;
  for (const auto& s : view.segments) {
    if (s.end <= view.first_dirty || full) continue;
    const bool ok = for_each_batch(*s.segment, s.segment->position_for(view.first_dirty), buf,
                                   [&](const BatchHeader& h, std::span<const uint8_t> bytes) {
                                     if (h.last_offset() < view.first_dirty) return true;
                                     if ((stop && stop->load()) || log.maintenance_aborted()) return false;
                                     DecodedBatch batch;
                                     if (!h.control() && decode_batch(bytes, batch, nullptr)) {
                                       for (const auto& r : batch.records)
                                         if (r.key) map.put(*r.key, r.offset);
                                     }
                                     map_end = h.last_offset() + 1;
                                     full = map.bytes >= map_budget_bytes;
                                     return !full;
                                   });
    if (!ok) {
      spdlog::error("log {}: cleaner cannot read segment {}", log.dir(), s.base);
      return result;
    }
    if (!full) map_end = s.end;
  }
  if ((stop && stop->load()) || log.maintenance_aborted()) return result;

  // 2. Rewrite every segment up to the end of the map, in groups of up to segment.bytes.
  std::vector<std::vector<CleaningView::Seg>> groups;
  int64_t group_bytes = 0;
  for (const auto& s : view.segments) {
    if (s.base >= map_end && !groups.empty()) break;
    const bool fits = !groups.empty() && group_bytes + s.segment->size() <= view.config.segment_bytes &&
                      s.end - groups.back().front().base <= INT32_MAX;
    if (!fits) {
      groups.emplace_back();
      group_bytes = 0;
    }
    groups.back().push_back(s);
    group_bytes += s.segment->size();
    if (s.base >= map_end) break;
  }
  GroupCleaner cleaner(log, view, map, map_end, now_ms, result);
  for (const auto& group : groups) {
    if (auto ec = cleaner.clean(group, stop)) {
      if (ec != std::errc::operation_canceled) spdlog::error("log {}: cleaning failed: {}", log.dir(), ec.message());
      return result;
    }
    ++result.groups;
  }
  result.cleaned = true;
  result.end_offset = map_end;
  log.set_cleaner_checkpoint(map_end, cleaner.horizon_due());
  spdlog::info("log {}: cleaned up to offset {}: {} of {} records kept, {} -> {} bytes in {} group(s)", log.dir(),
               map_end, result.records_kept, result.records_read, result.bytes_before, result.bytes_after,
               result.groups);
  return result;
}

LogCleaner::LogCleaner(LogManager& logs, LogCleanerOptions options) : logs_(logs), options_(options) {}

LogCleaner::~LogCleaner() { stop(); }

void LogCleaner::start() {
  if (!options_.enabled || thread_.joinable()) return;
  thread_ = std::thread([this] { run(); });
}

void LogCleaner::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  abort_ = true;
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void LogCleaner::wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

bool LogCleaner::clean_filthiest(int64_t now_ms) {
  std::shared_ptr<Log> best;
  double best_score = -1;
  for (const auto& log : logs_.all_logs()) {
    const double score = cleaning_score(log->cleaning_view(now_ms), now_ms, false);
    if (score > best_score) {
      best_score = score;
      best = log;
    }
  }
  if (!best) return false;
  return clean(*best, now_ms, false, &abort_, options_.map_budget_bytes).cleaned;
}

void LogCleaner::run() {
  for (;;) {
    // Clean while there is work (bounded per round), then back off (log.cleaner.backoff.ms).
    for (int round = 0; round < 100 && !abort_ && clean_filthiest(wall_ms()); ++round) {
    }
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(options_.backoff_ms), [this] { return stopping_ || woken_; });
    if (stopping_) return;
    woken_ = false;
  }
}

}  // namespace runnel::storage
