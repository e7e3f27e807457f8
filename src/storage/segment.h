#pragma once
// One log segment (internal to storage/): <base>.log plus its .index and .timeindex.
// Not thread-safe by itself: Log serialises mutations under its mutex; reads of bytes
// below a size snapshot (read_bytes/read_header) are safe from any thread.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "storage/env.h"
#include "storage/offset_index.h"
#include "storage/record_batch.h"

namespace runnel::storage {

struct LogConfig;

class Segment {
 public:
  // "%020lld" + suffix, e.g. 00000000000000000042.log
  static std::string file_name(int64_t base_offset, const char* suffix);

  // A new, empty segment with preallocated indexes. A suffix (".cleaned") goes after
  // each file's extension, as Kafka names the cleaner's temporary segments.
  static std::error_code create(Env& env, const std::string& dir, int64_t base_offset, const LogConfig& config,
                                std::shared_ptr<Segment>& out, const std::string& suffix = "");
  // Opens existing files without scanning them; indexes are loaded if well-formed.
  static std::error_code open(Env& env, const std::string& dir, int64_t base_offset, const LogConfig& config,
                              std::shared_ptr<Segment>& out, const std::string& suffix = "");

  // Full scan (length, magic, CRC, increasing offsets) that rebuilds both indexes and
  // truncates the file at the first bad batch (reason says why). Batches reaching
  // `end_bound` (the next segment's base offset) are cut too, with no reason: only
  // an interrupted truncation leaves them (see cut_at). truncated_bytes > 0 means
  // data was dropped.
  std::error_code recover(int64_t min_base_offset, int64_t end_bound, int64_t& truncated_bytes,
                          std::string& reason);
  // Cheap load after a clean shutdown: trusts the data, checks the indexes against the
  // file and finds the end offset from the last index entry. ok=false -> call recover().
  std::error_code load_clean(bool& ok);

  // Log::truncate_to: drops every batch whose last offset >= `offset` (one straddling
  // it goes whole) from the segment's view: size, next offset, both indexes and the
  // max timestamp. The file keeps the bytes, so readers holding slices of them keep
  // reading; the segment must never be appended to again (has_stale_tail()), and a
  // later segment must exist before a crash can matter: recovery then cuts the bytes
  // (recover's end_bound). removed = whether any batch went.
  std::error_code cut_at(int64_t offset, bool& removed);
  bool has_stale_tail() const { return stale_tail_; }

  // Appends already validated and patched batches with one write, then indexes them.
  std::error_code append(std::span<const uint8_t> data, const std::vector<BatchLocation>& batches, int64_t now_ms);

  // Start of the scan for `offset` (offset index lookup).
  int64_t position_for(int64_t offset) const { return offset_index_.lookup(offset).position; }
  // Start of the scan for the first batch with maxTimestamp >= ts (time + offset index).
  int64_t position_for_timestamp(int64_t ts) const;

  std::error_code read_header(int64_t pos, BatchHeader& out) const;
  std::error_code read_bytes(int64_t pos, std::span<uint8_t> out) const;

  std::error_code become_inactive();  // final time index entry + trim indexes (roll)
  std::error_code become_active();    // preallocate indexes again (after later segments were dropped)
  std::error_code sync_log();
  void start_log_writeback() { file_->start_writeback(); }
  std::error_code sync_indexes();
  std::error_code remove_files();
  // Renames the three files to carry `suffix` instead of the current one ("" = the
  // plain names). Open descriptors and mappings keep working, so readers do too.
  std::error_code change_suffix(const std::string& suffix);
  // Unlinks the files but keeps them open: a reader holding the segment keeps
  // reading; the space is freed when the last holder drops it.
  std::error_code unlink_files();
  const std::string& suffix() const { return suffix_; }

  int64_t base_offset() const { return base_offset_; }
  int64_t size() const { return size_; }
  int64_t next_offset() const { return next_offset_; }
  int64_t max_timestamp() const { return max_timestamp_; }
  int64_t rolling_base_ms() const { return rolling_base_ms_; }  // -1 while empty
  bool empty() const { return size_ == 0; }
  bool indexes_full() const { return offset_index_.full() || time_index_.full(); }
  bool can_hold_offset(int64_t offset) const { return offset_index_.can_hold(offset); }
  const std::string& log_path() const { return log_path_; }
  int fd() const { return file_->fd(); }

 private:
  Segment(Env& env, const std::string& dir, int64_t base_offset, const LogConfig& config, const std::string& suffix);
  std::string path_of(const char* extension, const std::string& suffix) const;
  std::error_code open_files(bool create_new);
  void index_batch(const BatchHeader& h, int64_t position);

  Env& env_;
  const int64_t base_offset_;
  const int32_t index_interval_bytes_;
  const int32_t index_max_bytes_;
  const std::string dir_;
  std::string suffix_;
  std::string log_path_;
  std::unique_ptr<File> file_;
  OffsetIndex offset_index_;
  TimeIndex time_index_;

  int64_t size_ = 0;
  int64_t next_offset_;
  int64_t max_timestamp_ = -1;
  int64_t offset_of_max_timestamp_;
  int64_t bytes_since_last_index_entry_ = 0;
  int64_t rolling_base_ms_ = -1;
  bool indexes_missing_ = false;  // index files did not exist when opened
  bool stale_tail_ = false;       // cut_at left bytes past size_ in the file
};

}  // namespace runnel::storage
