#include "storage/segment.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "storage/crc32c.h"
#include "storage/log.h"

namespace runnel::storage {

namespace L = batch_layout;

std::string Segment::file_name(int64_t base_offset, const char* suffix) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%020" PRId64, base_offset);
  return std::string(buf) + suffix;
}

Segment::Segment(Env& env, const std::string& dir, int64_t base_offset, const LogConfig& config,
                 const std::string& suffix)
    : env_(env),
      base_offset_(base_offset),
      index_interval_bytes_(config.index_interval_bytes),
      index_max_bytes_(std::max<int32_t>(config.segment_index_bytes, 12)),
      dir_(dir),
      suffix_(suffix),
      log_path_(dir + "/" + file_name(base_offset, ".log") + suffix),
      offset_index_(base_offset),
      time_index_(base_offset),
      next_offset_(base_offset),
      offset_of_max_timestamp_(base_offset) {}

std::string Segment::path_of(const char* extension, const std::string& suffix) const {
  return dir_ + "/" + file_name(base_offset_, extension) + suffix;
}

std::error_code Segment::open_files(bool create_new) {
  if (auto ec = env_.open_file(log_path_, create_new, file_)) return ec;
  if (create_new) {
    if (auto ec = file_->truncate(0)) return ec;
  }
  const std::string index_path = path_of(".index", suffix_);
  const std::string time_index_path = path_of(".timeindex", suffix_);
  indexes_missing_ = !env_.exists(index_path) || !env_.exists(time_index_path);
  // Both indexes start preallocated; Log trims the inactive ones after loading.
  if (auto ec = offset_index_.open(env_, index_path, static_cast<size_t>(index_max_bytes_), true)) return ec;
  if (auto ec = time_index_.open(env_, time_index_path, static_cast<size_t>(index_max_bytes_), true)) return ec;
  if (create_new && (offset_index_.entries() > 0 || time_index_.entries() > 0)) {  // stale files
    if (auto ec = offset_index_.reset()) return ec;
    if (auto ec = time_index_.reset()) return ec;
  }
  return {};
}

std::error_code Segment::create(Env& env, const std::string& dir, int64_t base_offset, const LogConfig& config,
                                std::shared_ptr<Segment>& out, const std::string& suffix) {
  std::shared_ptr<Segment> seg(new Segment(env, dir, base_offset, config, suffix));
  if (auto ec = seg->open_files(true)) return ec;
  out = std::move(seg);
  return {};
}

std::error_code Segment::open(Env& env, const std::string& dir, int64_t base_offset, const LogConfig& config,
                              std::shared_ptr<Segment>& out, const std::string& suffix) {
  std::shared_ptr<Segment> seg(new Segment(env, dir, base_offset, config, suffix));
  if (auto ec = seg->open_files(false)) return ec;
  if (auto ec = seg->file_->size(seg->size_)) return ec;
  out = std::move(seg);
  return {};
}

void Segment::index_batch(const BatchHeader& h, int64_t position) {
  if (h.max_timestamp > max_timestamp_) {
    max_timestamp_ = h.max_timestamp;
    offset_of_max_timestamp_ = h.last_offset();
  }
  // Kafka's rule: an entry for this batch once more than index.interval.bytes were
  // written since the previous entry.
  if (bytes_since_last_index_entry_ > index_interval_bytes_) {
    offset_index_.append(h.last_offset(), static_cast<int32_t>(position));
    time_index_.maybe_append(max_timestamp_, offset_of_max_timestamp_);
    bytes_since_last_index_entry_ = 0;
  }
  bytes_since_last_index_entry_ += h.total_size();
  next_offset_ = h.last_offset() + 1;
}

std::error_code Segment::append(std::span<const uint8_t> data, const std::vector<BatchLocation>& batches,
                                int64_t now_ms) {
  if (auto ec = file_->write_at(data, size_)) {
    // Drop whatever prefix reached the file so the log stays a sequence of whole batches.
    int64_t actual = 0;
    if (!file_->size(actual) && actual > size_) (void)file_->truncate(size_);
    return ec;
  }
  if (size_ == 0) rolling_base_ms_ = now_ms;
  for (const auto& b : batches) index_batch(b.header, size_ + static_cast<int64_t>(b.position));
  size_ += static_cast<int64_t>(data.size());
  return {};
}

std::error_code Segment::read_header(int64_t pos, BatchHeader& out) const {
  uint8_t buf[L::kHeaderSize];
  size_t n = 0;
  if (auto ec = file_->read_at(buf, pos, n)) return ec;
  if (n != sizeof buf) return std::make_error_code(std::errc::io_error);
  out = parse_batch_header(buf);
  return {};
}

std::error_code Segment::read_bytes(int64_t pos, std::span<uint8_t> out) const {
  size_t n = 0;
  if (auto ec = file_->read_at(out, pos, n)) return ec;
  if (n != out.size()) return std::make_error_code(std::errc::io_error);
  return {};
}

std::error_code Segment::recover(int64_t min_base_offset, int64_t end_bound, int64_t& truncated_bytes,
                                 std::string& reason) {
  truncated_bytes = 0;
  reason.clear();
  if (auto ec = offset_index_.preallocate()) return ec;
  if (auto ec = time_index_.preallocate()) return ec;
  if (auto ec = offset_index_.reset()) return ec;
  if (auto ec = time_index_.reset()) return ec;
  size_ = 0;
  next_offset_ = base_offset_;
  max_timestamp_ = -1;
  offset_of_max_timestamp_ = base_offset_;
  bytes_since_last_index_entry_ = 0;
  rolling_base_ms_ = -1;

  int64_t file_size = 0;
  if (auto ec = file_->size(file_size)) return ec;
  int64_t expected = std::max(base_offset_, min_base_offset);
  // No bigger than the file: recovering many small segments (e.g. the offsets
  // topic's) should not zero-fill a MiB each.
  std::vector<uint8_t> chunk(static_cast<size_t>(std::clamp<int64_t>(file_size, 1, 1 << 20)));
  int64_t pos = 0;
  while (pos < file_size) {
    if (file_size - pos < static_cast<int64_t>(L::kHeaderSize)) { reason = "torn batch header"; break; }
    BatchHeader h;
    if (auto ec = read_header(pos, h)) return ec;
    if (h.batch_length < static_cast<int32_t>(L::kHeaderSize - L::kLogOverhead)) { reason = "invalid batch length"; break; }
    // At or past the next segment's base: what a truncation left, whole or not. Cut
    // before the torn-write checks, so that it never counts as corruption (which
    // would drop the later segments).
    if (end_bound != INT64_MAX && h.base_offset >= expected && h.last_offset_delta >= 0 &&
        h.base_offset >= end_bound - h.last_offset_delta)
      break;
    if (pos + h.total_size() > file_size) { reason = "batch extends past end of file (torn write)"; break; }
    if (h.magic != kCurrentMagic) { reason = "invalid magic " + std::to_string(h.magic); break; }
    if (h.last_offset_delta < 0 || h.base_offset < expected || h.last_offset() - base_offset_ > INT32_MAX) {
      reason = "offset " + std::to_string(h.base_offset) + " out of sequence (expected >= " + std::to_string(expected) + ")";
      break;
    }
    // CRC over [attributes, end), streamed in chunks to bound memory.
    uint32_t crc = 0;
    int64_t at = pos + static_cast<int64_t>(L::kAttributes);
    const int64_t end = pos + h.total_size();
    while (at < end) {
      size_t len = static_cast<size_t>(std::min<int64_t>(end - at, static_cast<int64_t>(chunk.size())));
      if (auto ec = read_bytes(at, {chunk.data(), len})) return ec;
      crc = crc32c_extend(crc, {chunk.data(), len});
      at += static_cast<int64_t>(len);
    }
    if (crc != h.crc) { reason = "CRC mismatch at offset " + std::to_string(h.base_offset); break; }
    if (pos == 0) rolling_base_ms_ = h.max_timestamp;
    index_batch(h, pos);
    expected = h.last_offset() + 1;
    pos += h.total_size();
  }
  size_ = pos;
  stale_tail_ = false;
  if (pos < file_size) {
    truncated_bytes = file_size - pos;
    if (auto ec = file_->truncate(pos)) return ec;
  }
  return {};
}

std::error_code Segment::cut_at(int64_t offset, bool& removed) {
  removed = false;
  // From the last indexed batch wholly below `offset` to the first batch reaching it.
  int64_t pos = offset > base_offset_ ? offset_index_.lookup(offset - 1).position : 0;
  int64_t end = base_offset_;
  BatchHeader h;
  while (pos + static_cast<int64_t>(L::kHeaderSize) <= size_) {
    if (auto ec = read_header(pos, h)) return ec;
    if (h.last_offset() >= offset) break;
    end = h.last_offset() + 1;
    pos += h.total_size();
  }
  if (pos >= size_) return {};
  removed = true;
  offset_index_.truncate_to_position(pos);
  time_index_.truncate_to_offset(h.base_offset);
  size_ = pos;
  next_offset_ = end;
  stale_tail_ = true;
  bytes_since_last_index_entry_ = 0;
  if (size_ == 0) rolling_base_ms_ = -1;
  // The max timestamp (Kafka's loadLargestTimestamp): the time index's last entry,
  // then the batches from the one it points into.
  const TimestampOffset last = time_index_.last();
  max_timestamp_ = last.timestamp;
  offset_of_max_timestamp_ = last.offset;
  for (int64_t at = offset_index_.lookup(last.offset).position; at + static_cast<int64_t>(L::kHeaderSize) <= size_;) {
    if (auto ec = read_header(at, h)) return ec;
    if (h.max_timestamp > max_timestamp_) {
      max_timestamp_ = h.max_timestamp;
      offset_of_max_timestamp_ = h.last_offset();
    }
    at += h.total_size();
  }
  return {};
}

std::error_code Segment::load_clean(bool& ok) {
  ok = false;
  if (!offset_index_.valid() || !time_index_.valid()) return {};
  int64_t file_size = 0;
  if (auto ec = file_->size(file_size)) return ec;
  if (indexes_missing_ && file_size > 0) return {};
  const OffsetPosition last = offset_index_.last();
  int64_t pos = 0;
  int64_t expected = base_offset_;
  if (offset_index_.entries() > 0) {
    // The last entry must point at a batch ending at exactly its offset.
    if (last.position + static_cast<int64_t>(L::kHeaderSize) > file_size) return {};
    BatchHeader h;
    if (auto ec = read_header(last.position, h)) return ec;
    if (h.magic != kCurrentMagic || h.last_offset() != last.offset) return {};
    pos = last.position;
    expected = h.base_offset;
  }
  max_timestamp_ = time_index_.last().timestamp;
  offset_of_max_timestamp_ = time_index_.last().offset;
  next_offset_ = base_offset_;
  bytes_since_last_index_entry_ = 0;
  // Short header-only walk from the last indexed batch to the end of the file.
  while (pos < file_size) {
    if (file_size - pos < static_cast<int64_t>(L::kHeaderSize)) return {};
    BatchHeader h;
    if (auto ec = read_header(pos, h)) return ec;
    if (h.batch_length < static_cast<int32_t>(L::kHeaderSize - L::kLogOverhead) || pos + h.total_size() > file_size ||
        h.magic != kCurrentMagic || h.base_offset < expected || h.last_offset_delta < 0)
      return {};
    if (h.max_timestamp > max_timestamp_) {
      max_timestamp_ = h.max_timestamp;
      offset_of_max_timestamp_ = h.last_offset();
    }
    bytes_since_last_index_entry_ += h.total_size();  // the indexed batch itself counts too
    expected = h.last_offset() + 1;
    next_offset_ = expected;
    pos += h.total_size();
  }
  if (time_index_.entries() > 0 && time_index_.last().offset >= next_offset_) return {};
  size_ = file_size;
  rolling_base_ms_ = -1;
  if (file_size > 0) {
    BatchHeader first;
    if (auto ec = read_header(0, first)) return ec;
    rolling_base_ms_ = first.max_timestamp;
  }
  ok = true;
  return {};
}

int64_t Segment::position_for_timestamp(int64_t ts) const {
  TimestampOffset before = time_index_.lookup_before(ts);
  return offset_index_.lookup(before.offset).position;
}

std::error_code Segment::become_inactive() {
  if (!empty()) time_index_.maybe_append(max_timestamp_, offset_of_max_timestamp_, /*even_if_full=*/true);
  if (auto ec = offset_index_.trim()) return ec;
  return time_index_.trim();
}

std::error_code Segment::become_active() {
  if (auto ec = offset_index_.preallocate()) return ec;
  return time_index_.preallocate();
}

std::error_code Segment::sync_log() { return file_->sync(); }

std::error_code Segment::sync_indexes() {
  if (auto ec = offset_index_.sync()) return ec;
  return time_index_.sync();
}

std::error_code Segment::remove_files() {
  std::error_code first;
  if (auto ec = offset_index_.remove(env_)) first = ec;
  if (auto ec = time_index_.remove(env_); ec && !first) first = ec;
  file_.reset();
  if (auto ec = env_.remove(log_path_); ec && !first) first = ec;
  return first;
}

std::error_code Segment::change_suffix(const std::string& suffix) {
  if (suffix == suffix_) return {};
  // The .log goes last: at startup a segment counts as present by its .log file.
  if (auto ec = offset_index_.rename(env_, path_of(".index", suffix))) return ec;
  if (auto ec = time_index_.rename(env_, path_of(".timeindex", suffix))) return ec;
  const std::string new_log = path_of(".log", suffix);
  if (auto ec = env_.rename(log_path_, new_log)) return ec;
  log_path_ = new_log;
  suffix_ = suffix;
  return {};
}

std::error_code Segment::unlink_files() {
  std::error_code first;
  for (const auto& path : {log_path_, offset_index_.path(), time_index_.path()}) {
    if (auto ec = env_.remove(path); ec && !first && env_.exists(path)) first = ec;
  }
  return first;
}

}  // namespace runnel::storage
