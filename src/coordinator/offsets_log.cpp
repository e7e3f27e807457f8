#include "coordinator/offsets_log.h"

#include <chrono>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "common/async_event.h"

namespace runnel::coordinator {
namespace {

constexpr int32_t kReplayReadBytes = 1 << 20;

}  // namespace

OffsetsLog::OffsetsLog(asio::any_io_executor executor, Clock clock, PartitionLookup lookup, Options options)
    : executor_(std::move(executor)), clock_(std::move(clock)), lookup_(std::move(lookup)), options_(std::move(options)) {}

void OffsetsLog::append(int32_t partition, std::vector<LogRecord> records, std::function<void(ErrorCode)> done) {
  asio::co_spawn(
      executor_,
      [this, partition, records = std::move(records), done = std::move(done)]() mutable -> asio::awaitable<void> {
        // Never completes inside append(): the caller's state is consistent first.
        co_await asio::post(executor_, asio::use_awaitable);
        auto replica = lookup_(partition);
        if (!replica) {
          done(ErrorCode::kNotLeaderOrFollower);
          co_return;
        }
        if (records.empty()) {
          done(ErrorCode::kNone);
          co_return;
        }
        const int32_t min_insync = options_.min_insync_replicas ? options_.min_insync_replicas() : 1;
        if (auto error = replica->check_produce(-1, min_insync); error != ErrorCode::kNone) {
          done(error);
          co_return;
        }
        const int64_t now = clock_();
        Bytes batch = build_record_batch(records, now);
        const int32_t epoch = replica->leader_epoch();
        const auto result = replica->append_as_leader(batch, now);
        if (result.error != ErrorCode::kNone) {
          spdlog::warn("{}-{}: append of {} records failed: {} ({})", kOffsetsTopic, partition, records.size(),
                       error_name(result.error), to_wire(result.error));
          done(result.error);
          co_return;
        }
        // Acknowledged once replicated to the ISR and fsynced here, or not at all.
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.commit_timeout_ms);
        AsyncEvent changed(executor_);
        auto registration = replica->state_waiters().add(&changed);
        for (;;) {
          if (auto status = replica->replicated_status(result.last_offset + 1, epoch, min_insync)) {
            done(*status);
            co_return;
          }
          if (std::chrono::steady_clock::now() >= deadline) {
            done(ErrorCode::kRequestTimedOut);
            co_return;
          }
          co_await changed.wait_until(deadline);
        }
      },
      asio::detached);
}

ReplayStats OffsetsLog::replay(const storage::Log& log, int32_t partition,
                               const std::function<void(const LogRecord&)>& apply) {
  ReplayStats stats;
  const int64_t end = log.log_end_offset();
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
