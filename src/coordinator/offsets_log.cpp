#include "coordinator/offsets_log.h"

#include <asio/post.hpp>
#include <spdlog/spdlog.h>

namespace runnel::coordinator {
namespace {

constexpr int32_t kReplayReadBytes = 1 << 20;
constexpr int32_t kLeaderEpoch = 0;  // single node: the leader never changes

}  // namespace

OffsetsLog::OffsetsLog(storage::Flusher& flusher, asio::any_io_executor executor, Clock clock)
    : flusher_(flusher), executor_(std::move(executor)), clock_(std::move(clock)) {}

void OffsetsLog::append(int32_t partition, std::vector<LogRecord> records, std::function<void(ErrorCode)> done) {
  auto fail = [this, &done](ErrorCode error) {
    asio::post(executor_, [done = std::move(done), error] { done(error); });
  };
  if (partition < 0 || partition >= partition_count() || !logs_[static_cast<size_t>(partition)]) {
    return fail(ErrorCode::kUnknownTopicOrPartition);
  }
  if (records.empty()) return fail(ErrorCode::kNone);
  const auto& log = logs_[static_cast<size_t>(partition)];
  const int64_t now = clock_();
  Bytes batch = build_record_batch(records, now);
  const auto result = log->append(batch, kLeaderEpoch, now);
  if (result.error != ErrorCode::kNone) {
    spdlog::warn("{}-{}: append of {} records failed: {} ({})", kOffsetsTopic, partition, records.size(),
                 error_name(result.error), to_wire(result.error));
    return fail(result.error);
  }
  // Acknowledged only once fsynced; the flusher calls back on its own thread.
  flusher_.request(log, result.last_offset + 1,
                   [executor = executor_, hook = on_durable_, partition, done = std::move(done)](
                       int64_t, ErrorCode error) mutable {
                     asio::post(executor, [hook, partition, error, done = std::move(done)] {
                       if (hook) hook(partition);
                       done(error);
                     });
                   });
}

ReplayStats OffsetsLog::replay(const storage::Log& log, int32_t partition,
                               const std::function<void(const LogRecord&)>& apply) {
  ReplayStats stats;
  const int64_t end = log.high_watermark();
  int64_t next = log.log_start_offset();
  while (next < end) {
    auto read = log.read(next, kReplayReadBytes, end, true);
    if (read.error != ErrorCode::kNone) {
      spdlog::error("{}-{}: cannot read at offset {}: {} ({})", kOffsetsTopic, partition, next,
                    error_name(read.error), to_wire(read.error));
      break;
    }
    const auto batches = split_batches(read.bytes);
    if (batches.empty()) break;
    const int64_t before = next;
    for (const auto& bytes : batches) {
      auto parsed = parse_record_batch(bytes);
      ++stats.batches;
      next = std::max(next, parsed.header.last_offset() + 1);
      switch (parsed.status) {
        case ParsedBatch::Status::kOk:
          for (const auto& record : parsed.records) apply(record);
          stats.records += parsed.records.size();
          break;
        case ParsedBatch::Status::kControl:
          ++stats.skipped_batches;  // transaction markers: nothing to replay yet
          break;
        case ParsedBatch::Status::kCompressed:
          ++stats.skipped_batches;
          spdlog::warn("{}-{}: skipping a compressed batch at offset {} (not supported)", kOffsetsTopic, partition,
                       parsed.header.base_offset);
          break;
        case ParsedBatch::Status::kCorrupt:
          ++stats.skipped_batches;
          spdlog::warn("{}-{}: skipping a corrupt batch at offset {}", kOffsetsTopic, partition,
                       parsed.header.base_offset);
          break;
      }
    }
    if (next <= before) break;  // no progress: stop rather than loop
  }
  return stats;
}

}  // namespace runnel::coordinator
