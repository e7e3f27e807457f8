#pragma once
// One partition's log: an ordered map of segments, append/read, roll, flush, recovery.
// Thread-safe: an internal mutex guards state; it is never held across fsync.
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "common/error_code.h"
#include "storage/env.h"

namespace runnel::storage {

class Segment;

struct LogConfig {
  int64_t segment_bytes = 1 << 30;                    // segment.bytes
  int64_t segment_ms = 7 * 24 * 3600 * 1000LL;       // segment.ms
  int32_t index_interval_bytes = 4096;                // index.interval.bytes
  int32_t segment_index_bytes = 10 << 20;             // segment.index.bytes
  int32_t max_message_bytes = 1048588;                // max.message.bytes
  bool log_append_time = false;                       // message.timestamp.type=LogAppendTime
  // Retention and compaction (cleanup.policy and friends).
  int64_t retention_ms = 7 * 24 * 3600 * 1000LL;      // retention.ms, -1 = forever
  int64_t retention_bytes = -1;                       // retention.bytes, -1 = no limit
  int64_t file_delete_delay_ms = 60000;               // file.delete.delay.ms
  bool cleanup_delete = true;                         // cleanup.policy contains delete
  bool cleanup_compact = false;                       // cleanup.policy contains compact
  int64_t delete_retention_ms = 86400000;             // delete.retention.ms
  int64_t min_compaction_lag_ms = 0;                  // min.compaction.lag.ms
  int64_t max_compaction_lag_ms = INT64_MAX;          // max.compaction.lag.ms
  double min_cleanable_dirty_ratio = 0.5;             // min.cleanable.dirty.ratio
};

struct AppendResult {
  ErrorCode error = ErrorCode::kNone;
  int64_t base_offset = -1;
  int64_t last_offset = -1;
  int64_t log_append_time_ms = -1;  // -1 unless LogAppendTime
  int32_t record_count = 0;
};

struct ReadResult {
  ErrorCode error = ErrorCode::kNone;
  std::vector<uint8_t> bytes;  // whole batches only
};

struct LogOpenOptions {
  std::string dir;                  // the partition dir, <log.dir>/<topic>-<partition>
  LogConfig config;
  Env* env = &Env::posix();
  bool clean_shutdown = false;      // clean-shutdown marker was present: skip the recovery scan
  int64_t recovery_point = 0;       // from recovery-point-offset-checkpoint
  int64_t log_start_offset = 0;     // from log-start-offset-checkpoint
};

class Log {
 public:
  // Opens (creating the dir and a first segment if needed) and recovers the log.
  // On failure returns nullptr and sets ec.
  static std::shared_ptr<Log> open(const LogOpenOptions& options, std::error_code& ec);
  ~Log();
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;

  // `batches` = a Produce request's records; validated, then patched in place
  // (offsets, epoch, LogAppendTime) and written with one write call.
  AppendResult append(std::span<uint8_t> batches, int32_t leader_epoch, int64_t now_ms);

  // Whole batches from the one containing `offset`, never a batch starting at or past
  // `max_offset` (pass the high watermark), up to max_bytes, but at least one whole batch
  // when min_one_batch (KIP-74). offset < log start or > log end -> kOffsetOutOfRange.
  ReadResult read(int64_t offset, int32_t max_bytes, int64_t max_offset, bool min_one_batch) const;

  int64_t log_start_offset() const;
  int64_t log_end_offset() const;
  int64_t high_watermark() const;  // == durable (fsynced) end offset on a single node

  // First batch whose maxTimestamp >= ts: (its base offset, its maxTimestamp), or nullopt.
  std::optional<std::pair<int64_t, int64_t>> offset_for_timestamp(int64_t ts) const;

  // fsyncs everything appended so far (and the dir after a roll), then advances the
  // durable offset. Safe to call from another thread while appends go on.
  int64_t flush();
  // Trims the active segment's indexes and fsyncs everything. The log is unusable after.
  void close();
  // Marks the log deleted: later appends fail; readers holding segments keep working.
  void mark_deleted();

  // Applies changed topic configs; the next append/roll uses them.
  void update_config(const LogConfig& config);

  // DeleteRecords: moves the log start offset up to `offset` (<= high watermark,
  // else kOffsetOutOfRange) and removes the segments wholly below it.
  ErrorCode delete_records_before(int64_t offset);

  int64_t size_bytes() const;  // sum of segment sizes

  const std::string& dir() const { return dir_; }
  LogConfig config() const;
  size_t segment_count() const;
  std::vector<int64_t> segment_base_offsets() const;
  bool failed() const;  // an I/O error left the log offline (kKafkaStorageError on append)

 private:
  explicit Log(const LogOpenOptions& options);
  std::error_code load(const LogOpenOptions& options);
  std::error_code roll_locked(int64_t base_offset, int64_t now_ms);
  bool should_roll_locked(int64_t bytes, int64_t last_offset, int64_t now_ms) const;
  std::shared_ptr<Segment> segment_for_locked(int64_t offset) const;

  const std::string dir_;
  LogConfig config_;  // guarded by mu_
  Env& env_;

  mutable std::mutex mu_;
  std::map<int64_t, std::shared_ptr<Segment>> segments_;  // by base offset; last = active
  std::vector<std::shared_ptr<Segment>> unsynced_rolled_;  // rolled, not yet fsynced
  bool dir_dirty_ = false;                                 // segment files created since last flush
  int64_t log_start_offset_ = 0;
  int64_t log_end_offset_ = 0;
  int64_t durable_offset_ = 0;
  bool failed_ = false;
  bool closed_ = false;

  std::mutex flush_mu_;  // serialises flush() calls; never taken while holding mu_
};

}  // namespace runnel::storage
