#pragma once
// Kafka's sparse, memory-mapped segment indexes (internal to storage/):
//   .index      8-byte entries: relative offset i32 BE, file position i32 BE
//   .timeindex 12-byte entries: timestamp i64 BE, relative offset i32 BE
// The active segment's indexes are preallocated (segment.index.bytes, zero-filled)
// and trimmed to their real size when the segment rolls or the log closes.
// As in Kafka, no descriptor is kept once the file is mapped (the rare resize,
// block reservation and sync reopen it by path), so a partition holds one
// descriptor per segment (its .log), not three: 10,000 partitions fit a
// 20,000-descriptor limit.
#include <cstdint>
#include <memory>
#include <string>
#include <system_error>

#include "storage/env.h"

namespace runnel::storage {

// Shared mechanics: a file of fixed-size entries mapped into memory.
class MappedIndexFile {
 public:
  MappedIndexFile(size_t entry_size, int64_t base_offset) : entry_size_(entry_size), base_offset_(base_offset) {}

  // Opens or creates the file and maps it. valid() tells whether the existing content
  // was a well-formed prefix of entries followed only by zero fill.
  std::error_code open(Env& env, const std::string& path, size_t max_bytes, bool preallocate);
  std::error_code resize(size_t bytes);             // remap at `bytes` (rounded down to entries)
  std::error_code trim() { return resize(entries_ * entry_size_); }
  std::error_code preallocate() { return resize(max_bytes_); }
  std::error_code reset();                          // drop all entries, keep preallocation
  // Keeps the first n entries; the rest are zeroed in the mapping, so the file reads
  // back as the shorter index even before a trim.
  void truncate_entries(size_t n);
  std::error_code sync();
  std::error_code remove(Env& env);                 // unmaps, closes and deletes the file
  // Renames the file; the mapping and descriptor stay valid.
  std::error_code rename(Env& env, const std::string& new_path);

  size_t entries() const { return entries_; }
  bool full() const { return (entries_ + 1) * entry_size_ > capacity_; }
  bool valid() const { return valid_; }
  const std::string& path() const { return path_; }

 protected:
  const uint8_t* entry(size_t i) const { return map_->data() + i * entry_size_; }
  // nullptr when full, or when the disk has no block for the slot's page: a sparse
  // index just skips that entry (lookups scan a little further) instead of faulting.
  uint8_t* append_slot();
  // Overridden to say whether entry i may follow entry i-1 (or start the file when i == 0).
  virtual bool entry_ok(size_t i) const = 0;
  virtual ~MappedIndexFile() = default;

  const size_t entry_size_;
  const int64_t base_offset_;
  size_t entries_ = 0;

 private:
  std::error_code load_entries(File& file);
  // The file is reopened by path for each of these; the overloads taking one
  // let open() and reset() use the descriptor they already hold.
  std::error_code open_file(std::unique_ptr<File>& file) const;
  std::error_code resize(File& file, size_t bytes);
  std::error_code reset(File& file);
  void remap_or_forget(File& file);
  Env* env_ = nullptr;
  std::string path_;
  std::unique_ptr<MappedRegion> map_;
  size_t capacity_ = 0;  // mapped bytes
  size_t allocated_ = 0;  // bytes from the start known to have disk blocks (see append_slot)
  size_t max_bytes_ = 0;
  bool valid_ = true;
};

struct OffsetPosition {
  int64_t offset;    // absolute
  int32_t position;  // byte position of a batch in the .log
};

class OffsetIndex final : public MappedIndexFile {
 public:
  static constexpr size_t kEntrySize = 8;
  explicit OffsetIndex(int64_t base_offset) : MappedIndexFile(kEntrySize, base_offset) {}
  // Entry for the batch whose LAST offset is `offset`, starting at `position`. Ignored unless
  // the offset is larger than the last entry's.
  void append(int64_t offset, int32_t position);
  // Largest entry with offset <= target, or {base_offset, 0}.
  OffsetPosition lookup(int64_t target) const;
  OffsetPosition last() const;  // {base_offset, 0} when empty
  // Drops the entries of batches at or after byte `position` (a truncated segment).
  void truncate_to_position(int64_t position);
  // Only offsets representable as relative i32 may be appended.
  bool can_hold(int64_t offset) const { return offset - base_offset_ <= INT32_MAX; }

 private:
  OffsetPosition at(size_t i) const;
  bool entry_ok(size_t i) const override;
};

struct TimestampOffset {
  int64_t timestamp;
  int64_t offset;
};

class TimeIndex final : public MappedIndexFile {
 public:
  static constexpr size_t kEntrySize = 12;
  explicit TimeIndex(int64_t base_offset) : MappedIndexFile(kEntrySize, base_offset) {}
  // Appends when timestamp is larger than the last entry's (Kafka's maybeAppend).
  void maybe_append(int64_t timestamp, int64_t offset, bool even_if_full = false);
  // Largest entry with timestamp < target, or {-1, base_offset}.
  TimestampOffset lookup_before(int64_t target) const;
  TimestampOffset last() const;  // {-1, base_offset} when empty
  // Drops the entries pointing at offsets >= offset (a truncated segment).
  void truncate_to_offset(int64_t offset);

 private:
  TimestampOffset at(size_t i) const;
  bool entry_ok(size_t i) const override;
};

}  // namespace runnel::storage
