// Follower appends (Kafka's UnifiedLog.appendAsFollower): batches copied from the
// leader keep their offsets, epochs and bytes. The leader validated them for the
// producer; here they are only checked for being intact and in place.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "storage/log.h"
#include "storage/scope_exit.h"
#include "storage/segment.h"

namespace runnel::storage {

namespace {

namespace L = batch_layout;

struct FollowerBatches {
  ErrorCode error = ErrorCode::kNone;
  std::string message;
  std::vector<BatchLocation> batches;  // positions in the input
  int64_t records = 0;
};

FollowerBatches fail(ErrorCode error, std::string message) {
  FollowerBatches out;
  out.error = error;
  out.message = std::move(message);
  return out;
}

// Whole batches of `data` (a trailing partial one is ignored: a fetch may end
// mid-batch), each checked for size, magic and CRC, and their offsets for order:
// contiguous, or just increasing when gaps are allowed (a compacted topic).
FollowerBatches locate_follower_batches(std::span<const uint8_t> data, bool gaps_allowed) {
  FollowerBatches out;
  size_t pos = 0;
  int64_t prev_last = -1;
  while (pos < data.size()) {
    const size_t remaining = data.size() - pos;
    if (remaining < L::kLogOverhead) break;
    const int32_t batch_length = load_be32(data.data() + pos + L::kBatchLength);
    if (batch_length < static_cast<int32_t>(L::kHeaderSize - L::kLogOverhead))
      return fail(ErrorCode::kCorruptMessage, "batch length " + std::to_string(batch_length) + " below the header size");
    const size_t total = static_cast<size_t>(batch_length) + L::kLogOverhead;
    if (total > remaining) break;  // the partial batch a size-limited fetch ends with
    const auto batch = data.subspan(pos, total);
    const auto magic = static_cast<int8_t>(batch[L::kMagic]);
    if (magic != kCurrentMagic) {
      return fail(magic == 0 || magic == 1 ? ErrorCode::kUnsupportedForMessageFormat : ErrorCode::kCorruptMessage,
                  "batch magic " + std::to_string(magic));
    }
    const BatchHeader h = parse_batch_header(batch);
    if (compute_batch_crc(batch) != h.crc) return fail(ErrorCode::kCorruptMessage, "CRC mismatch");
    // Record count is not checked against the offset delta: a cleaned batch may hold
    // fewer records than its offsets span, or none (kept for its producer state).
    if (h.last_offset_delta < 0 || h.record_count < 0 || h.base_offset < 0 ||
        h.base_offset > INT64_MAX - 1 - h.last_offset_delta)
      return fail(ErrorCode::kCorruptMessage, "invalid offsets or record count in batch at " + std::to_string(h.base_offset));
    if (!out.batches.empty() && (gaps_allowed ? h.base_offset <= prev_last : h.base_offset != prev_last + 1)) {
      return fail(ErrorCode::kCorruptMessage, "batch at offset " + std::to_string(h.base_offset) +
                                                  (gaps_allowed ? " does not follow " : " is not contiguous with ") +
                                                  "offset " + std::to_string(prev_last));
    }
    out.batches.push_back({pos, h});
    out.records += h.record_count;
    prev_last = h.last_offset();
    pos += total;
  }
  return out;
}

}  // namespace

AppendResult Log::append_as_follower(std::span<const uint8_t> batches, int64_t now_ms) {
  AppendResult result;
  bool compacted = false;
  {
    std::lock_guard lock(mu_);
    compacted = config_.cleanup_compact;
  }
  // CRCs are checked without the lock; offsets against the log end under it.
  FollowerBatches located = locate_follower_batches(batches, compacted);
  if (located.error != ErrorCode::kNone) {
    spdlog::warn("log {}: follower append refused: {}", dir_, located.message);
    result.error = located.error;
    result.error_message = std::move(located.message);
    return result;
  }
  if (located.batches.empty()) return result;  // only a partial batch: nothing to do

  bool new_epoch = false;
  const ScopeExit write_epochs([&] {  // after mu_ is released (see append)
    if (new_epoch) persist_epochs();
  });
  std::lock_guard lock(mu_);
  if (failed_ || closed_) {
    result.error = ErrorCode::kKafkaStorageError;
    return result;
  }
  const int64_t first = located.batches.front().header.base_offset;
  if (first < log_end_offset_ || (first > log_end_offset_ && !compacted)) {
    // Overlaps what this log has, or leaves a gap: the caller fetched from the wrong
    // offset (Kafka's UnexpectedAppendOffsetException), or must truncate first.
    result.error = ErrorCode::kOffsetOutOfRange;
    result.error_message = "first offset " + std::to_string(first) + " but the log end offset is " +
                           std::to_string(log_end_offset_);
    spdlog::warn("log {}: follower append refused: {}", dir_, result.error_message);
    return result;
  }
  result.base_offset = first;
  // Runs of batches whose offsets fit one segment (relative offsets are int32); one
  // run unless a compacted topic's gaps are huge.
  for (size_t i = 0; i < located.batches.size();) {
    const int64_t run_base = located.batches[i].header.base_offset;
    size_t j = i + 1;
    while (j < located.batches.size() && located.batches[j].header.last_offset() - run_base <= INT32_MAX) ++j;
    const size_t from = located.batches[i].position;
    const size_t to = located.batches[j - 1].position + located.batches[j - 1].size();
    std::vector<BatchLocation> run(located.batches.begin() + static_cast<std::ptrdiff_t>(i),
                                   located.batches.begin() + static_cast<std::ptrdiff_t>(j));
    for (auto& b : run) b.position -= from;
    const int64_t run_last = run.back().header.last_offset();
    const auto& active = *segments_.rbegin()->second;
    if (should_roll_locked(static_cast<int64_t>(to - from), run_last, now_ms) || !active.can_hold_offset(run_last)) {
      if (auto ec = roll_locked(run_base, now_ms)) {
        spdlog::error("log {}: cannot roll segment at offset {}: {}", dir_, run_base, ec.message());
        result.error = ErrorCode::kKafkaStorageError;
        return result;
      }
    }
    if (auto ec = segments_.rbegin()->second->append(batches.subspan(from, to - from), run, now_ms)) {
      spdlog::error("log {}: follower write of {} bytes at offset {} failed: {}", dir_, to - from, run_base,
                    ec.message());
      result.error = ErrorCode::kKafkaStorageError;
      return result;
    }
    log_end_offset_ = run_last + 1;
    for (const auto& b : run) {
      producers_.replay(b.header);  // the leader checked sequences; keep its offsets for duplicates
      const int32_t epoch = b.header.partition_leader_epoch;
      if (epoch >= 0 && epoch > epochs_.latest_epoch()) new_epoch = epochs_.assign(epoch, b.header.base_offset) || new_epoch;
    }
    result.last_offset = run_last;
    i = j;
  }
  result.record_count = static_cast<int32_t>(std::min<int64_t>(located.records, INT32_MAX));
  return result;
}

}  // namespace runnel::storage
