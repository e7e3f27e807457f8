#include "storage/log.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "storage/record_batch.h"
#include "storage/record_codec.h"
#include "storage/scope_exit.h"
#include "storage/segment.h"

namespace runnel::storage {

namespace {
LogConfig sanitize(LogConfig c) {
  // Positions in the .index are i32, so a segment must stay below 2 GiB.
  c.segment_bytes = std::clamp<int64_t>(c.segment_bytes, 1, INT32_MAX);
  c.segment_index_bytes = std::max<int32_t>(c.segment_index_bytes, 4 * 12);
  c.index_interval_bytes = std::max<int32_t>(c.index_interval_bytes, 0);
  return c;
}
}  // namespace

Log::Log(const LogOpenOptions& options)
    : dir_(options.dir),
      config_(sanitize(options.config)),
      env_(*options.env),
      hw_follows_flush_(options.hw_follows_flush),
      topic_id_(options.topic_id),
      journal_(options.journal),
      epochs_(*options.env, options.dir) {}

Log::~Log() = default;

std::shared_ptr<Log> Log::open(const LogOpenOptions& options, std::error_code& ec) {
  std::shared_ptr<Log> log(new Log(options));
  ec = log->load(options);
  if (ec) {
    spdlog::error("failed to open log {}: {}", options.dir, ec.message());
    return nullptr;
  }
  return log;
}

bool Log::should_roll_locked(int64_t bytes, int64_t last_offset, int64_t now_ms) const {
  const Segment& active = *segments_.rbegin()->second;
  if (active.empty()) return false;  // even an oversized batch goes into an empty segment
  // A compacted topic rolls by max.compaction.lag.ms too, so the cleaner can reach its records.
  const int64_t segment_ms =
      config_.cleanup_compact ? std::min(config_.segment_ms, config_.max_compaction_lag_ms) : config_.segment_ms;
  return active.size() + bytes > config_.segment_bytes ||
         (active.rolling_base_ms() >= 0 && now_ms - active.rolling_base_ms() > segment_ms) ||
         active.indexes_full() || !active.can_hold_offset(last_offset);
}

std::error_code Log::roll_locked(int64_t base_offset, int64_t now_ms) {
  auto old = segments_.rbegin()->second;
  if (auto ec = old->become_inactive()) return ec;
  std::shared_ptr<Segment> seg;
  if (auto ec = Segment::create(env_, dir_, base_offset, config_, seg)) {
    // E.g. a full disk: the old segment stays the active one (indexes preallocated
    // again), so appends can continue there once space is back.
    if (auto restore = old->become_active())
      spdlog::warn("log {}: re-activating segment {} failed: {}", dir_, old->base_offset(), restore.message());
    return ec;
  }
  segments_[base_offset] = seg;
  unsynced_rolled_.push_back(std::move(old));
  dir_dirty_ = true;
  durable_position_ = -1;
  // Kafka snapshots producer state at each roll, so recovery replays only the tail.
  write_snapshot_locked(base_offset, /*sync_now=*/false);
  spdlog::info("log {}: rolled new segment at offset {} (now_ms {})", dir_, base_offset, now_ms);
  return {};
}

void Log::write_snapshot_locked(int64_t offset, bool sync_now) {
  const std::string path = dir_ + "/" + snapshot_file_name(offset);
  const std::string bytes = producers_.serialize();
  std::unique_ptr<File> file;
  auto ec = env_.open_file(path, true, file);
  if (!ec) ec = file->truncate(0);
  if (!ec) ec = file->write_at({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, 0);
  if (!ec && sync_now) ec = file->sync();
  if (ec) {
    // Not fatal: recovery falls back to an older snapshot or replays more of the log.
    spdlog::warn("log {}: writing producer snapshot {} failed: {}", dir_, path, ec.message());
    return;
  }
  snapshots_.insert(offset);
  if (!sync_now) unsynced_snapshots_.push_back(path);
  dir_dirty_ = true;
}

ErrorCode Log::check_keys(std::span<uint8_t> batches, const ValidationResult& v, AppendResult& result) const {
  // Kafka (LogValidator.validateKey): a keyless record on a compacted topic is
  // INVALID_RECORD with a record error. Only compacted topics pay for decoding.
  for (const auto& b : v.batches) {
    int32_t index = -1;
    std::string error;
    if (!find_record_without_key(batches.subspan(b.position, b.size()), index, &error)) {
      result.error_message = "Invalid record batch: " + error;
      return ErrorCode::kCorruptMessage;
    }
    if (index >= 0) {
      result.record_error_index = index;
      result.error_message = "Compacted topic cannot accept message without key in topic partition " +
                             dir_.substr(dir_.find_last_of('/') + 1) + ".";
      return ErrorCode::kInvalidRecord;
    }
  }
  return ErrorCode::kNone;
}

AppendResult Log::append(std::span<uint8_t> batches, int32_t leader_epoch, int64_t now_ms) {
  AppendResult result;
  ValidationConfig vc;
  bool compacted = false;
  {
    std::lock_guard lock(mu_);
    vc.max_message_bytes = config_.max_message_bytes;
    compacted = config_.cleanup_compact;
  }
  ValidationResult v = validate_batches(batches, vc);
  if (v.error != ErrorCode::kNone) {
    result.error = v.error;
    return result;
  }
  for (auto& b : v.batches) repair_max_timestamp(batches.subspan(b.position, b.size()), b.header);
  std::vector<ProducerBatchInfo> producer_batches;
  bool idempotent = false;
  for (const auto& b : v.batches) {
    // As Kafka's LogValidator: no control batches from clients, and a producer id needs a sequence.
    if (b.header.control() || (b.header.producer_id >= 0 && b.header.base_sequence < 0)) {
      result.error = ErrorCode::kInvalidRecord;
      return result;
    }
    producer_batches.push_back(ProducerBatchInfo::from(b.header));
    idempotent = idempotent || b.header.producer_id >= 0;
  }
  if (compacted) {
    result.error = check_keys(batches, v, result);
    if (result.error != ErrorCode::kNone) return result;
  }
  const auto bytes = static_cast<int64_t>(batches.size());
  bool new_epoch = false;
  // Declared before the lock, so it runs once mu_ is released (on failure flush()
  // retries the write, and takes the log offline if it fails again).
  const ScopeExit write_epochs([&] {
    if (new_epoch) persist_epochs();
  });
  std::lock_guard lock(mu_);
  if (failed_ || closed_) {
    result.error = ErrorCode::kKafkaStorageError;
    return result;
  }
  if (idempotent) {
    // Checked and recorded under the same lock as the write: a retry racing its
    // original can never be appended twice.
    const auto check = producers_.check(producer_batches);
    if (check.error != ErrorCode::kNone) {
      result.error = check.error;
      return result;
    }
    if (check.duplicate) {
      result.duplicate = true;
      result.base_offset = check.duplicate->first_offset;
      result.last_offset = check.duplicate->last_offset;
      result.record_count = v.record_count;
      result.log_append_time_ms = config_.log_append_time ? check.duplicate->timestamp : -1;
      return result;
    }
  }
  const int64_t base = log_end_offset_;
  const int64_t last = base + v.record_count - 1;
  if (should_roll_locked(bytes, last, now_ms)) {
    if (auto ec = roll_locked(base, now_ms)) {
      spdlog::error("log {}: cannot roll segment at offset {}: {}", dir_, base, ec.message());
      result.error = ErrorCode::kKafkaStorageError;
      return result;
    }
  }
  int64_t next = base;
  std::vector<int64_t> first_offsets;
  for (size_t i = 0; i < v.batches.size(); ++i) {
    auto& b = v.batches[i];
    auto batch = batches.subspan(b.position, b.size());
    set_base_offset(batch, next);
    set_partition_leader_epoch(batch, leader_epoch);
    if (config_.log_append_time) {
      set_log_append_time(batch, now_ms);
      b.header.max_timestamp = now_ms;
      producer_batches[i].max_timestamp = now_ms;
    }
    b.header.base_offset = next;
    first_offsets.push_back(next);
    next += b.header.last_offset_delta + 1;
  }
  if (auto ec = segments_.rbegin()->second->append(batches, v.batches, now_ms)) {
    // The segment cut any partial write back off, so the log is still whole batches.
    spdlog::error("log {}: write of {} bytes at offset {} failed: {}", dir_, bytes, base, ec.message());
    result.error = ErrorCode::kKafkaStorageError;
    return result;
  }
  log_end_offset_ = next;
  if (idempotent) producers_.commit(producer_batches, first_offsets);
  // Kafka's maybeAssignEpochStartOffset, for a leader only when its epoch is new.
  if (leader_epoch >= 0 && leader_epoch > epochs_.latest_epoch()) new_epoch = epochs_.assign(leader_epoch, base);
  result.base_offset = base;
  result.last_offset = next - 1;
  result.record_count = v.record_count;
  result.log_append_time_ms = config_.log_append_time ? now_ms : -1;
  return result;
}

std::shared_ptr<Segment> Log::segment_for_locked(int64_t offset) const {
  auto it = segments_.upper_bound(offset);
  if (it == segments_.begin()) return nullptr;
  return std::prev(it)->second;
}

namespace {
struct ScanRange {
  std::shared_ptr<Segment> segment;
  int64_t start;
  int64_t end;  // size snapshot: bytes below it are immutable
};
}  // namespace

SliceReadResult Log::read_slices(int64_t offset, int32_t max_bytes, int64_t max_offset, bool min_one_batch) const {
  SliceReadResult result;
  std::vector<ScanRange> ranges;
  {
    std::lock_guard lock(mu_);
    if (offset < log_start_offset_ || offset > log_end_offset_) {
      result.error = ErrorCode::kOffsetOutOfRange;
      return result;
    }
    if (offset == log_end_offset_ || offset >= max_offset) return result;
    auto it = segments_.upper_bound(offset);
    if (it != segments_.begin()) --it;
    for (bool first = true; it != segments_.end(); ++it, first = false)
      ranges.push_back({it->second, first ? it->second->position_for(offset) : 0, it->second->size()});
  }
  // The scan needs no lock: it only reads batch headers below each size snapshot.
  const auto limit = static_cast<int64_t>(std::max<int32_t>(max_bytes, 0));
  auto take = [&](const ScanRange& r, int64_t pos, int64_t size) {
    if (result.slices.empty() || result.slices.back().owner != r.segment ||
        result.slices.back().position + result.slices.back().length != pos) {
      result.slices.push_back({r.segment, r.segment->fd(), pos, 0});
    }
    result.slices.back().length += size;
    result.bytes += size;
  };
  for (const auto& r : ranges) {
    int64_t pos = r.start;
    while (pos + static_cast<int64_t>(kBatchHeaderSize) <= r.end) {
      BatchHeader h;
      if (auto ec = r.segment->read_header(pos, h)) {
        spdlog::error("log {}: read failed: {}", dir_, ec.message());
        return SliceReadResult{ErrorCode::kKafkaStorageError, {}, 0, 0};
      }
      const int64_t size = h.total_size();
      if (h.last_offset() < offset) {
        pos += size;
        continue;
      }
      if (h.last_offset() >= max_offset) return result;  // never expose a batch beyond the high watermark
      const bool fits = result.bytes + size <= limit;
      if (!fits && !(result.bytes == 0 && min_one_batch)) return result;
      take(r, pos, size);
      if (!h.control()) result.records += std::max<int64_t>(0, h.record_count - std::max<int64_t>(0, offset - h.base_offset));
      if (!fits) return result;  // the one oversized batch KIP-74 allows
      pos += size;
    }
  }
  return result;
}

ReadResult Log::read(int64_t offset, int32_t max_bytes, int64_t max_offset, bool min_one_batch) const {
  SliceReadResult slices = read_slices(offset, max_bytes, max_offset, min_one_batch);
  ReadResult result{slices.error, {}};
  result.bytes.resize(static_cast<size_t>(slices.bytes));
  size_t at = 0;
  for (const auto& slice : slices.slices) {
    const auto& segment = *static_cast<const Segment*>(slice.owner.get());
    const auto length = static_cast<size_t>(slice.length);
    if (auto ec = segment.read_bytes(slice.position, {result.bytes.data() + at, length})) {
      spdlog::error("log {}: read failed: {}", dir_, ec.message());
      return ReadResult{ErrorCode::kKafkaStorageError, {}};
    }
    at += length;
  }
  return result;
}

void Log::start_writeback() const {
  std::shared_ptr<Segment> active;
  {
    std::lock_guard lock(mu_);
    if (closed_ || failed_ || synced_offset_ == log_end_offset_) return;
    active = segments_.rbegin()->second;
  }
  active->start_log_writeback();
}

int64_t Log::flush() {
  std::lock_guard flush_lock(flush_mu_);
  int64_t target = 0;
  int64_t active_size = 0;
  std::shared_ptr<Segment> active;
  std::vector<std::shared_ptr<Segment>> rolled;
  std::vector<std::string> snapshots;
  bool sync_dir = false;
  {
    std::lock_guard lock(mu_);
    if (closed_ || failed_ || synced_offset_ == log_end_offset_) return durable_offset_;
    target = log_end_offset_;
    active = segments_.rbegin()->second;
    active_size = active->size();
    rolled.swap(unsynced_rolled_);
    snapshots.swap(unsynced_snapshots_);
    sync_dir = std::exchange(dir_dirty_, false);
  }
  // fsync outside the mutex so appends and reads go on meanwhile.
  std::error_code ec;
  // Epochs first: data made durable below must find its epochs in the file (an
  // append writes them too; this catches one whose write failed).
  if (!persist_epochs()) ec = std::make_error_code(std::errc::io_error);
  for (auto& seg : rolled) {
    if (!ec) ec = seg->sync_log();
    if (!ec) ec = seg->sync_indexes();
  }
  for (const auto& path : snapshots) {
    // A snapshot is an optimisation: one that cannot be synced is only logged.
    std::unique_ptr<File> file;
    std::error_code snapshot_ec = env_.open_file(path, false, file);
    if (!snapshot_ec) snapshot_ec = file->sync();
    if (snapshot_ec) spdlog::warn("log {}: fsync of producer snapshot {} failed: {}", dir_, path, snapshot_ec.message());
  }
  if (!ec) ec = active->sync_log();
  if (!ec && sync_dir) ec = env_.sync_dir(dir_);

  std::lock_guard lock(mu_);
  if (ec) {
    // After a failed fsync the page cache state is unknown: take the log offline (as Kafka does).
    spdlog::error("log {}: fsync failed, taking the log offline: {}", dir_, ec.message());
    failed_ = true;
    return durable_offset_;
  }
  synced_offset_ = std::max(synced_offset_.load(), target);
  advance_durable_locked(target, active, active_size);
  return durable_offset_;
}

void Log::advance_durable_locked(int64_t offset, const std::shared_ptr<Segment>& segment, int64_t position) {
  if (offset < durable_offset_) return;
  const bool known = segment && segment == segments_.rbegin()->second && position >= 0;
  if (offset > durable_offset_ || known) durable_position_ = known ? position : -1;
  durable_offset_ = offset;
}

Log::UndurableCopy Log::copy_undurable_batches(std::vector<uint8_t>& out) const {
  UndurableCopy copy;
  int64_t from = 0;
  int64_t from_position = -1;
  {
    std::lock_guard lock(mu_);
    if (closed_ || failed_) return copy;
    // After a roll the log syncs itself (rare): every segment but the active one
    // is then synced before anything after it is acknowledged, so what a power
    // cut can take is only a suffix of the active segment, which recovery cuts
    // and the journal's replay appends back. (A lost suffix of a closed segment
    // could leave a gap below the next segment, which recovery does not see.)
    if (!unsynced_rolled_.empty() || dir_dirty_) return copy;
    if (durable_offset_ >= log_end_offset_) return copy;
    from = durable_offset_;
    copy.end_offset = log_end_offset_;
    copy.segment = segments_.rbegin()->second;
    copy.end_position = copy.segment->size();
    from_position = durable_position_;
  }
  if (from_position < 0) {
    // Appends after the snapshot of the end are left for the next round.
    const SliceReadResult slices = read_slices(from, INT32_MAX, copy.end_offset, true);
    if (slices.error != ErrorCode::kNone || slices.slices.size() != 1 || slices.slices[0].owner != copy.segment)
      return UndurableCopy{};
    from_position = slices.slices[0].position;
  }
  const auto length = static_cast<size_t>(copy.end_position - from_position);
  const size_t start = out.size();
  out.resize(start + length);
  if (auto ec = copy.segment->read_bytes(from_position, {out.data() + start, length})) {
    spdlog::error("log {}: reading batches for the commit journal failed: {}", dir_, ec.message());
    out.resize(start);
    return UndurableCopy{};
  }
  return copy;
}

int64_t Log::mark_journaled(const UndurableCopy& copy) {
  std::lock_guard lock(mu_);
  if (failed_ || copy.end_offset < 0) return durable_offset_;
  if (copy.end_offset > log_end_offset_) {
    advance_durable_locked(log_end_offset_, nullptr, -1);  // a truncation came in between
  } else {
    advance_durable_locked(copy.end_offset, copy.segment, copy.end_position);
  }
  return durable_offset_;
}

void Log::close() {
  std::lock_guard flush_lock(flush_mu_);
  std::vector<std::shared_ptr<Segment>> to_sync;
  {
    std::lock_guard lock(mu_);
    if (closed_) return;
    closed_ = true;
    retired_ = true;
    auto active = segments_.rbegin()->second;
    if (auto ec = active->become_inactive()) spdlog::warn("log {}: trimming indexes failed: {}", dir_, ec.message());
    to_sync.swap(unsynced_rolled_);
    to_sync.push_back(active);
    // Producer state at the log end, so a clean restart replays nothing.
    if (!failed_) write_snapshot_locked(log_end_offset_, /*sync_now=*/true);
    unsynced_snapshots_.clear();
  }
  std::error_code ec;
  for (auto& seg : to_sync) {
    if (!ec) ec = seg->sync_log();
    if (!ec) ec = seg->sync_indexes();
  }
  if (!ec) ec = env_.sync_dir(dir_);
  if (!ec && !persist_epochs()) ec = std::make_error_code(std::errc::io_error);
  std::lock_guard lock(mu_);
  if (ec) {
    spdlog::error("log {}: fsync at close failed: {}", dir_, ec.message());
    failed_ = true;
  } else if (!failed_) {
    durable_offset_ = log_end_offset_;
    synced_offset_ = log_end_offset_;
    durable_position_ = -1;
  }
}

void Log::mark_deleted() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    retired_ = true;
  }
  // Wait for a background job on this log to notice (they check retired() per
  // batch), so none touches the files once the dir is renamed.
  std::lock_guard maintenance(maintenance_mu_);
}

void Log::update_config(const LogConfig& config) {
  std::lock_guard lock(mu_);
  config_ = sanitize(config);
}

LogConfig Log::config() const {
  std::lock_guard lock(mu_);
  return config_;
}

int64_t Log::size_bytes() const {
  std::lock_guard lock(mu_);
  int64_t total = 0;
  for (const auto& [base, seg] : segments_) total += seg->size();
  return total;
}

ErrorCode Log::delete_records_before(int64_t offset) {
  {
    std::lock_guard lock(mu_);
    if (failed_ || closed_) return ErrorCode::kKafkaStorageError;
    if (offset > high_watermark()) return ErrorCode::kOffsetOutOfRange;
    if (offset <= log_start_offset_) return ErrorCode::kNone;
    // Only the offset moves here (this runs on the event loop); the segments wholly
    // below it are removed by the next retention pass on the background thread.
    set_log_start_locked(offset);
    spdlog::info("log {}: log start offset now {} (DeleteRecords)", dir_, offset);
  }
  persist_epochs();
  return ErrorCode::kNone;
}

std::optional<ProducerEntry> Log::producer_entry(int64_t producer_id) const {
  std::lock_guard lock(mu_);
  const auto* entry = producers_.find(producer_id);
  return entry ? std::optional<ProducerEntry>(*entry) : std::nullopt;
}

int64_t Log::log_start_offset() const { std::lock_guard lock(mu_); return log_start_offset_; }
int64_t Log::log_end_offset() const { std::lock_guard lock(mu_); return log_end_offset_; }
int64_t Log::high_watermark() const { return hw_follows_flush_ ? durable_offset_.load() : high_watermark_.load(); }
int64_t Log::durable_offset() const { return durable_offset_.load(); }
int64_t Log::synced_offset() const { return synced_offset_.load(); }
bool Log::failed() const { std::lock_guard lock(mu_); return failed_; }
size_t Log::segment_count() const { std::lock_guard lock(mu_); return segments_.size(); }

std::vector<int64_t> Log::segment_base_offsets() const {
  std::lock_guard lock(mu_);
  std::vector<int64_t> out;
  for (const auto& [base, seg] : segments_) out.push_back(base);
  return out;
}

}  // namespace runnel::storage
