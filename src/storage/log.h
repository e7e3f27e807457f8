#pragma once
// One partition's log: an ordered map of segments, append/read, roll, flush, recovery,
// and what replication needs: follower appends, truncation, the leader epoch cache and
// a high watermark the caller may own.
// Thread-safe: an internal mutex guards state. It is never held across fsync, except by
// the two truncations: they are rare (a leader change) and must look atomic to readers
// and appenders, before and after a crash.
#include <atomic>
#include <cstdint>
#include <map>
#include <set>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/error_code.h"
#include "common/uuid.h"
#include "storage/env.h"
#include "storage/leader_epoch_cache.h"
#include "storage/producer_state.h"
#include "storage/record_batch.h"

namespace runnel::storage {

class Segment;
class CommitJournal;

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
  bool duplicate = false;           // an idempotent retry: offsets are the original batch's
  // kInvalidRecord on a compacted topic: the first keyless record (Kafka's record_errors).
  int32_t record_error_index = -1;
  std::string error_message;
};

struct ReadResult {
  ErrorCode error = ErrorCode::kNone;
  std::vector<uint8_t> bytes;  // whole batches only
};

// A run of whole batches in one segment file, for sending without copying
// (sendfile). `owner` keeps the file open, even if the segment is deleted or
// compacted away before the bytes are sent.
struct FileSlice {
  std::shared_ptr<const void> owner;
  int fd = -1;
  int64_t position = 0;
  int64_t length = 0;
};

struct SliceReadResult {
  ErrorCode error = ErrorCode::kNone;
  std::vector<FileSlice> slices;  // in log order; one per segment touched
  int64_t bytes = 0;              // sum of the slice lengths
  // Records at or after the read offset, control records excluded (metrics).
  int64_t records = 0;
};

// A record found by timestamp: its offset and its timestamp.
struct RecordPosition {
  int64_t offset = -1;
  int64_t timestamp = -1;
  bool operator==(const RecordPosition&) const = default;
};

struct LogOpenOptions {
  std::string dir;                  // the partition dir, <log.dir>/<topic>-<partition>
  LogConfig config;
  Env* env = &Env::posix();
  bool clean_shutdown = false;      // clean-shutdown marker was present: skip the recovery scan
  int64_t recovery_point = 0;       // from recovery-point-offset-checkpoint
  int64_t log_start_offset = 0;     // from log-start-offset-checkpoint
  int64_t cleaner_checkpoint = -1;  // from cleaner-offset-checkpoint, -1 = none
  // Who owns the high watermark. true (a single node): it is the durable, fsynced
  // offset. false (replication::Partition): set_high_watermark() sets it; it starts
  // at `high_watermark` (from replication-offset-checkpoint; -1 = the log start),
  // clamped to [log start, log end].
  bool hw_follows_flush = true;
  int64_t high_watermark = -1;
  // The partition's topic id (partition.metadata) and the broker's commit journal,
  // if any: a truncation first makes the journal forget this log.
  Uuid topic_id;
  std::shared_ptr<CommitJournal> journal;
};

// The cleaner's view of a log (see LogCleaner): closed segments below the first
// uncleanable offset, and what decides whether it is worth cleaning now.
struct CleaningView {
  struct Seg {
    std::shared_ptr<Segment> segment;
    int64_t base = 0;
    int64_t end = 0;  // the next segment's base offset
  };
  std::vector<Seg> segments;      // from the first segment up to first_uncleanable
  LogConfig config;
  int64_t log_start = 0;
  int64_t first_dirty = 0;
  int64_t first_uncleanable = 0;
  int64_t clean_bytes = 0;
  int64_t dirty_bytes = 0;
  int64_t delete_horizon_due = -1;  // earliest delete horizon of kept tombstones, -1 none
  std::unordered_map<int64_t, int64_t> producer_last_offsets;
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
  // A leader epoch >= 0 above the cache's latest is recorded there at the first batch's offset.
  AppendResult append(std::span<uint8_t> batches, int32_t leader_epoch, int64_t now_ms);

  // Replication (log_follower_append.cpp): batches copied from the leader, offsets and
  // epochs already assigned and kept byte for byte. Each batch is checked for size,
  // magic 2 and CRC (not max.message.bytes: the leader accepted it); control batches
  // are allowed; a trailing partial batch (a fetch ending mid-batch) is ignored.
  // The first base offset must be the log end offset and the batches contiguous,
  // else kOffsetOutOfRange (first batch) / kCorruptMessage (later ones) and nothing is
  // written. On a compacted topic (cleanup_compact) gaps are allowed as in Kafka,
  // since the leader's cleaner removes whole batches; offsets must still increase.
  // New epochs go into the epoch cache; producer state records every producer batch
  // (with its offsets, so a later leader recognises a retry) without checks.
  // base_offset/last_offset/record_count describe what was appended (-1/-1/0 for nothing).
  AppendResult append_as_follower(std::span<const uint8_t> batches, int64_t now_ms);

  // Whole batches from the one containing `offset`, never a batch starting at or past
  // `max_offset` (pass the high watermark), up to max_bytes, but at least one whole batch
  // when min_one_batch (KIP-74). offset < log start or > log end -> kOffsetOutOfRange.
  ReadResult read(int64_t offset, int32_t max_bytes, int64_t max_offset, bool min_one_batch) const;
  // The same batches as read(), as file slices instead of copied bytes.
  SliceReadResult read_slices(int64_t offset, int32_t max_bytes, int64_t max_offset, bool min_one_batch) const;

  int64_t log_start_offset() const;
  int64_t log_end_offset() const;
  // Lock-free. The durable offset when the HW follows flush (a single node),
  // otherwise the value the caller set.
  int64_t high_watermark() const;
  // Where acknowledged data ends: what flush() fsynced or a commit journal
  // round made durable (mark_journaled). Lock-free.
  int64_t durable_offset() const;
  // What flush() has fsynced in the log's own files: the recovery point to
  // checkpoint (below it, recovery trusts the files). Lock-free.
  int64_t synced_offset() const;
  bool hw_follows_flush() const { return hw_follows_flush_; }
  // Caller-managed HW: sets it clamped to [log start, log end] and returns it. With
  // hw_follows_flush it changes nothing and returns the durable offset.
  int64_t set_high_watermark(int64_t offset);

  // ---- replication: truncation and leader epochs (log_truncation.cpp, log_leader_epochs.cpp) ----
  // Removes every offset >= `offset` (Kafka's truncateTo); a no-op when offset >= log end;
  // offset <= log start truncates fully (truncate_fully_and_start_at(offset)). A batch
  // straddling `offset` is removed whole: callers truncate on batch boundaries (the
  // log end becomes `offset` anyway, as in Kafka, and after a restart the end of the
  // last whole batch). Durable before it returns. kInvalidRequest for offset < 0,
  // kKafkaStorageError on I/O failure (the log goes offline).
  ErrorCode truncate_to(int64_t offset);
  // Removes every segment and starts an empty log at `offset` (log start = end = HW),
  // with an empty epoch cache and no producer state. Durable before it returns.
  ErrorCode truncate_fully_and_start_at(int64_t offset);
  // Followers follow the leader's log start: moves it up to min(offset, HW), never
  // down; the epoch cache follows; segments wholly below go at the next retention
  // pass (as with DeleteRecords). Returns the log start offset afterwards.
  int64_t maybe_increment_log_start_offset(int64_t offset);
  // OffsetForLeaderEpoch from the epoch cache and the log end (Kafka's endOffsetForEpoch).
  EpochEndOffset end_offset_for_epoch(int32_t epoch) const;
  int32_t latest_epoch() const;  // -1 when no epoch is known
  // A new leader's epoch starts at its log end when it is elected, before anything
  // is appended in it (Kafka's maybeAssignEpochStartOffset), so a follower's
  // divergence is found from its first fetch. Ignored unless above the latest epoch.
  void assign_epoch_start_offset(int32_t epoch, int64_t offset);
  std::vector<EpochEntry> epoch_entries() const;

  // ListOffsets by time (log_timestamp_lookup.cpp). Both look at records, not
  // just batches, as Kafka does, and ignore records below the log start offset.
  // The first record whose timestamp >= ts, or nullopt.
  std::optional<RecordPosition> offset_for_timestamp(int64_t ts) const;
  // The first record carrying the largest timestamp in the log (ListOffsets -3,
  // KIP-734), or nullopt when the log holds no record.
  std::optional<RecordPosition> offset_of_max_timestamp() const;

  // fsyncs everything appended so far (and the dir after a roll), then advances the
  // synced and durable offsets. Safe to call from another thread while appends go on.
  int64_t flush();
  // ---- the commit journal (commit_journal.h) ----
  struct UndurableCopy {
    int64_t end_offset = -1;  // -1: nothing copied
    std::shared_ptr<Segment> segment;  // the active segment the copy ends in
    int64_t end_position = -1;         // and where in it
  };
  // Appends to `out` the whole batches from the durable offset to the log end;
  // end_offset -1 when there are none, the log is offline, or it rolled a
  // segment since its last flush() (then it must flush itself).
  UndurableCopy copy_undurable_batches(std::vector<uint8_t>& out) const;
  // The journal holds everything the copy had: the durable offset moves up to its
  // end (never past the log end, which a truncation may have moved). Returns it.
  int64_t mark_journaled(const UndurableCopy& copy);
  const Uuid& topic_id() const { return topic_id_; }
  // Starts writing back what flush() will sync, without waiting: the flusher
  // calls it for every log of a round first, so the disk gets all their data
  // at once instead of one fdatasync's worth at a time.
  void start_writeback() const;
  // Trims the active segment's indexes and fsyncs everything. The log is unusable after.
  void close();
  // Marks the log deleted: later appends fail; readers holding segments keep working.
  void mark_deleted();

  // Applies changed topic configs; the next append/roll uses them.
  void update_config(const LogConfig& config);

  // DeleteRecords: moves the log start offset up to `offset` (<= high watermark,
  // else kOffsetOutOfRange); the segments wholly below it go at the next retention pass.
  ErrorCode delete_records_before(int64_t offset);

  int64_t size_bytes() const;  // sum of segment sizes

  // ---- background maintenance (never called on the event loop) ----
  // Retention: deletes whole segments from the front that breach retention.ms
  // (by their largest timestamp) or retention.bytes, or lie below the log start
  // offset, never past the high watermark; the log start offset follows. Files
  // are renamed *.deleted and unlinked by delete_expired_files after
  // file.delete.delay.ms. Returns the number of segments removed.
  size_t apply_retention(int64_t now_ms);
  // Unlinks *.deleted files whose delay has passed (all of them if force).
  size_t delete_expired_files(int64_t now_ms, bool force = false);
  // Forgets idle producers (producer.id.expiration.ms) and prunes old snapshots.
  size_t remove_expired_producers(int64_t now_ms, int64_t expiration_ms);

  // ---- log cleaner support (see log_cleaner.h) ----
  // Held by whichever background job works on this log's segments, so that
  // retention and cleaning never interleave on one log.
  std::mutex& maintenance_mutex() { return maintenance_mu_; }
  // True once the log is deleted or closed: background work must stop.
  bool retired() const { return retired_.load(); }
  // retired(), or a truncation waits for the maintenance mutex: a cleaning pass stops.
  bool maintenance_aborted() const { return retired_.load() || maintenance_aborts_.load() > 0; }
  CleaningView cleaning_view(int64_t now_ms) const;
  // Swaps `cleaned` (suffix .cleaned, fsynced) in for `old` (contiguous, in map
  // order) with Kafka's crash-safe .cleaned -> .swap -> plain renames.
  std::error_code replace_segments(const std::vector<std::shared_ptr<Segment>>& old,
                                   const std::shared_ptr<Segment>& cleaned, int64_t now_ms);
  void set_cleaner_checkpoint(int64_t offset, int64_t delete_horizon_due);
  int64_t cleaner_checkpoint() const;

  // Producer state of one producer (tests and diagnostics).
  std::optional<ProducerEntry> producer_entry(int64_t producer_id) const;

  const std::string& dir() const { return dir_; }
  Env& env() const { return env_; }
  LogConfig config() const;
  size_t segment_count() const;
  std::vector<int64_t> segment_base_offsets() const;
  bool failed() const;  // an I/O error left the log offline (kKafkaStorageError on append)

 private:
  explicit Log(const LogOpenOptions& options);
  std::error_code load(const LogOpenOptions& options);
  std::error_code resolve_swap_files(std::vector<std::string>& names);
  // Both return whether snapshot files were removed (the dir needs an fsync before
  // the log grows past them again, or a stale one could be loaded after a crash).
  bool load_producer_state();
  // Producer state for a log ending at `end`: snapshots above it are deleted, the
  // newest valid one at or below it is loaded and the batches after it replayed.
  bool rebuild_producer_state_locked(int64_t end);
  // Loads the epoch cache at open: from the file (cut to the log end, plus epochs of
  // the batches from `scanned_from` on, as Kafka's segment recovery does), or rebuilt
  // from every batch header when the file is missing or malformed.
  void load_leader_epochs_locked(int64_t scanned_from);
  // Assigns the epochs of batches from `from` on that are above the cache's latest.
  void assign_epochs_from_batches_locked(int64_t from);
  // Writes the epoch cache if it changed (call without mu_ held). False on failure.
  bool persist_epochs();
  void set_log_start_locked(int64_t offset);  // log start + epoch cache truncate_from_start
  void init_high_watermark_locked(int64_t checkpointed);  // at open, caller-managed mode
  ErrorCode truncate_to_locked(int64_t offset, int64_t now_ms);
  ErrorCode truncate_fully_locked(int64_t offset, int64_t now_ms);
  // Renames `doomed` *.deleted (the last first, fsyncing the dir after each, so a
  // crash leaves a prefix of the log) and queues them for unlinking.
  std::error_code retire_segments_durably_locked(std::vector<std::shared_ptr<Segment>> doomed, int64_t now_ms);
  // Removes the producer snapshot files above `offset` (all with -1).
  bool remove_snapshots_above_locked(int64_t offset);
  ErrorCode fail_locked(const char* what, std::error_code ec);  // takes the log offline
  std::error_code roll_locked(int64_t base_offset, int64_t now_ms);
  bool should_roll_locked(int64_t bytes, int64_t last_offset, int64_t now_ms) const;
  std::shared_ptr<Segment> segment_for_locked(int64_t offset) const;
  // Writes a producer snapshot at `offset` (fsynced now, or by the next flush()).
  void write_snapshot_locked(int64_t offset, bool sync_now);
  // Renames removed segments *.deleted and queues them for unlinking.
  void retire_segments(std::vector<std::shared_ptr<Segment>> doomed, int64_t now_ms);
  ErrorCode check_keys(std::span<uint8_t> batches, const ValidationResult& v, AppendResult& result) const;

  const std::string dir_;
  LogConfig config_;  // guarded by mu_
  Env& env_;

  mutable std::mutex mu_;
  std::map<int64_t, std::shared_ptr<Segment>> segments_;  // by base offset; last = active
  std::vector<std::shared_ptr<Segment>> unsynced_rolled_;  // rolled, not yet fsynced
  bool dir_dirty_ = false;                                 // segment files created since last flush
  int64_t log_start_offset_ = 0;
  int64_t log_end_offset_ = 0;
  // Written under mu_, read lock-free (high_watermark() is on every fetch).
  std::atomic<int64_t> durable_offset_{0};
  std::atomic<int64_t> synced_offset_{0};  // <= durable_offset_
  // Where the durable offset is in the active segment, -1 when unknown (then a
  // journal copy finds it through the index): saves a lookup and header reads
  // per log and round. Reset whenever the active segment changes.
  int64_t durable_position_ = -1;
  void advance_durable_locked(int64_t offset, const std::shared_ptr<Segment>& segment, int64_t position);
  const bool hw_follows_flush_;
  const Uuid topic_id_;
  const std::shared_ptr<CommitJournal> journal_;
  // Before a truncation: the journal forgets this log (a no-op without one).
  ErrorCode forget_in_journal();
  std::atomic<int64_t> high_watermark_{0};  // only when !hw_follows_flush_
  LeaderEpochCache epochs_;                 // own mutex; persisted outside mu_
  std::atomic<int> maintenance_aborts_{0};  // truncations waiting for maintenance_mu_
  bool failed_ = false;
  bool closed_ = false;
  std::atomic<bool> retired_{false};  // closed or deleted: background jobs stop

  ProducerStateManager producers_;                 // guarded by mu_
  std::set<int64_t> snapshots_;                    // offsets of the snapshot files on disk
  std::vector<std::string> unsynced_snapshots_;    // written at roll, fsynced by flush()
  struct PendingDelete {
    int64_t due_ms;
    std::shared_ptr<Segment> segment;
  };
  std::vector<PendingDelete> pending_deletes_;     // *.deleted files, guarded by mu_
  int64_t cleaner_checkpoint_ = -1;                // first dirty offset, -1 = never cleaned
  int64_t delete_horizon_due_ = -1;                // see CleaningView

  // Lock order: maintenance_mu_ -> flush_mu_ -> mu_ -> the epoch cache's locks.
  std::mutex maintenance_mu_;

  std::mutex flush_mu_;  // serialises flush() calls; never taken while holding mu_
};

}  // namespace runnel::storage
