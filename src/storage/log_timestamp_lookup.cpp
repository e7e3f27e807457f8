// ListOffsets by time: the first record at or after a timestamp, and the record
// with the largest timestamp (KIP-734). As in Kafka (UnifiedLog
// .fetchOffsetByTimestamp) the answer names a record, not its batch, so the one
// batch that holds it is decoded (decompressed if need be).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <functional>
#include <vector>

#include "storage/log.h"
#include "storage/record_codec.h"
#include "storage/segment.h"

namespace runnel::storage {
namespace {

struct SegmentRange {
  std::shared_ptr<Segment> segment;
  int64_t start;  // scan start position
  int64_t end;    // size snapshot: bytes below it are immutable
};

using RecordMatch = std::function<bool(int64_t record_timestamp)>;

// The first record of the batch at `pos` with offset >= min_offset that `match`es.
// A batch that cannot be decoded is answered at batch granularity rather than not
// at all: its base offset (or the log start) with its maxTimestamp.
std::optional<RecordPosition> find_in_batch(const std::string& dir, const Segment& segment, int64_t pos,
                                            const BatchHeader& h, int64_t min_offset, const RecordMatch& match) {
  std::vector<uint8_t> bytes(static_cast<size_t>(h.total_size()));
  if (auto ec = segment.read_bytes(pos, bytes)) {
    spdlog::error("log {}: read failed: {}", dir, ec.message());
    return std::nullopt;
  }
  DecodedBatch batch;
  std::string error;
  if (!decode_batch(bytes, batch, &error)) {
    spdlog::warn("log {}: batch at offset {} not decodable for a timestamp lookup: {}", dir, h.base_offset, error);
    return RecordPosition{std::max(h.base_offset, min_offset), h.max_timestamp};
  }
  const bool log_append_time = (h.attributes & batch_attr::kLogAppendTime) != 0;
  for (const auto& record : batch.records) {
    if (record.offset < min_offset) continue;
    const int64_t timestamp = log_append_time ? h.max_timestamp : record.timestamp;
    if (match(timestamp)) return RecordPosition{record.offset, timestamp};
  }
  return std::nullopt;
}

// Scans the batch headers of `ranges` in order; the first batch that passes
// `batch_may_hold` is searched record by record with `match`.
std::optional<RecordPosition> scan(const std::string& dir, const std::vector<SegmentRange>& ranges,
                                   int64_t min_offset, const std::function<bool(const BatchHeader&)>& batch_may_hold,
                                   const RecordMatch& match) {
  for (const auto& r : ranges) {
    int64_t pos = r.start;
    while (pos + static_cast<int64_t>(kBatchHeaderSize) <= r.end) {
      BatchHeader h;
      if (auto ec = r.segment->read_header(pos, h)) {
        spdlog::error("log {}: read failed: {}", dir, ec.message());
        return std::nullopt;
      }
      if (h.last_offset() >= min_offset && batch_may_hold(h)) {
        if (auto found = find_in_batch(dir, *r.segment, pos, h, min_offset, match)) return found;
      }
      pos += h.total_size();
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<RecordPosition> Log::offset_for_timestamp(int64_t ts) const {
  std::vector<SegmentRange> ranges;
  int64_t start_offset = 0;
  {
    std::lock_guard lock(mu_);
    start_offset = log_start_offset_;
    // From the first segment whose largest timestamp reaches ts; later segments
    // too, in case the match there lies below the log start offset.
    bool found_first = false;
    for (const auto& [base, seg] : segments_) {
      if (!found_first && seg->max_timestamp() < ts) continue;
      ranges.push_back({seg, found_first ? 0 : seg->position_for_timestamp(ts), seg->size()});
      found_first = true;
    }
  }
  return scan(
      dir_, ranges, start_offset, [ts](const BatchHeader& h) { return h.max_timestamp >= ts; },
      [ts](int64_t record_ts) { return record_ts >= ts; });
}

std::optional<RecordPosition> Log::offset_of_max_timestamp() const {
  std::vector<SegmentRange> ranges;
  int64_t start_offset = 0;
  int64_t max_timestamp = -1;
  {
    std::lock_guard lock(mu_);
    start_offset = log_start_offset_;
    std::shared_ptr<Segment> holder;  // the first segment with the largest timestamp
    for (const auto& [base, seg] : segments_) {
      if (!seg->empty() && (!holder || seg->max_timestamp() > max_timestamp)) {
        holder = seg;
        max_timestamp = seg->max_timestamp();
      }
    }
    if (!holder) return std::nullopt;
    ranges.push_back({holder, holder->position_for_timestamp(max_timestamp), holder->size()});
  }
  return scan(
      dir_, ranges, start_offset, [max_timestamp](const BatchHeader& h) { return h.max_timestamp == max_timestamp; },
      [max_timestamp](int64_t record_ts) { return record_ts == max_timestamp; });
}

}  // namespace runnel::storage
