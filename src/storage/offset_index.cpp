#include "storage/offset_index.h"

#include <algorithm>

#include "storage/record_batch.h"

namespace runnel::storage {

namespace {
bool all_zero(const uint8_t* p, size_t n) {
  return std::all_of(p, p + n, [](uint8_t b) { return b == 0; });
}
}  // namespace

std::error_code MappedIndexFile::open(Env& env, const std::string& path, size_t max_bytes, bool preallocate) {
  env_ = &env;
  path_ = path;
  max_bytes_ = max_bytes - max_bytes % entry_size_;
  std::unique_ptr<File> file;
  if (auto ec = env.open_file(path, true, file)) return ec;
  int64_t size = 0;
  if (auto ec = file->size(size)) return ec;
  valid_ = size % static_cast<int64_t>(entry_size_) == 0;
  if (!valid_) {
    // A torn index is rebuilt by the caller; start it empty.
    if (auto ec = file->truncate(0)) return ec;
    size = 0;
  }
  if (auto ec = file->map(static_cast<size_t>(size), map_)) return ec;
  capacity_ = static_cast<size_t>(size);
  allocated_ = 0;
  if (auto ec = load_entries(*file)) return ec;
  if (preallocate) return resize(*file, std::max(max_bytes_, entries_ * entry_size_));
  return {};
}

std::error_code MappedIndexFile::open_file(std::unique_ptr<File>& file) const {
  if (env_ == nullptr) return std::make_error_code(std::errc::bad_file_descriptor);
  return env_->open_file(path_, false, file);
}

std::error_code MappedIndexFile::load_entries(File& file) {
  const size_t slots = capacity_ / entry_size_;
  size_t n = 0;
  // Valid entries form a prefix; the preallocated rest is zero-filled.
  while (n < slots && !all_zero(entry(n), entry_size_) && entry_ok(n)) ++n;
  entries_ = n;
  if (n < slots && !all_zero(entry(n), capacity_ - n * entry_size_)) {
    valid_ = false;
    return reset(file);
  }
  return {};
}

std::error_code MappedIndexFile::resize(size_t bytes) {
  std::unique_ptr<File> file;
  if (auto ec = open_file(file)) return ec;
  return resize(*file, bytes);
}

std::error_code MappedIndexFile::resize(File& file, size_t bytes) {
  bytes -= bytes % entry_size_;
  bytes = std::max(bytes, entries_ * entry_size_);
  map_.reset();  // unmap before changing the file length
  if (auto ec = file.truncate(static_cast<int64_t>(bytes))) {
    remap_or_forget(file);  // the file kept its length: keep serving lookups
    return ec;
  }
  if (auto ec = file.map(bytes, map_)) {
    remap_or_forget(file);
    return ec;
  }
  capacity_ = bytes;
  allocated_ = std::min(allocated_, bytes);
  return {};
}

void MappedIndexFile::remap_or_forget(File& file) {
  // A failed resize must never leave lookups a dangling mapping: map what the file
  // has again, or, failing that, forget the entries (a sparse index may be empty).
  int64_t size = 0;
  if (!file.size(size) && size >= static_cast<int64_t>(entries_ * entry_size_) &&
      !file.map(static_cast<size_t>(size), map_)) {
    capacity_ = static_cast<size_t>(size) - static_cast<size_t>(size) % entry_size_;
    allocated_ = std::min(allocated_, capacity_);
    return;
  }
  entries_ = 0;
  capacity_ = 0;
  allocated_ = 0;
  if (file.map(0, map_)) map_.reset();
}

std::error_code MappedIndexFile::reset() {
  std::unique_ptr<File> file;
  if (auto ec = open_file(file)) return ec;
  return reset(*file);
}

std::error_code MappedIndexFile::reset(File& file) {
  // Truncate-and-extend instead of writing zeros: the preallocated tail stays sparse.
  const size_t capacity = capacity_;
  entries_ = 0;
  map_.reset();
  if (auto ec = file.truncate(0)) {
    remap_or_forget(file);
    return ec;
  }
  capacity_ = 0;
  allocated_ = 0;
  return resize(file, capacity);
}

void MappedIndexFile::truncate_entries(size_t n) {
  if (n >= entries_) return;
  std::fill(map_->data() + n * entry_size_, map_->data() + entries_ * entry_size_, uint8_t{0});
  entries_ = n;
}

std::error_code MappedIndexFile::sync() {
  if (map_) {
    if (auto ec = map_->sync()) return ec;
  }
  // msync covers the entries; fdatasync also the length set by the last resize.
  std::unique_ptr<File> file;
  if (auto ec = open_file(file)) return ec;
  return file->sync();
}

std::error_code MappedIndexFile::remove(Env& env) {
  map_.reset();
  return env.remove(path_);
}

std::error_code MappedIndexFile::rename(Env& env, const std::string& new_path) {
  if (auto ec = env.rename(path_, new_path)) return ec;
  path_ = new_path;
  return {};
}

uint8_t* MappedIndexFile::append_slot() {
  if (full()) return nullptr;
  const size_t end = (entries_ + 1) * entry_size_;
  if (end > allocated_) {
    // The preallocated tail is sparse; a store into a hole on a full disk would be a
    // SIGBUS, so blocks are reserved a page at a time before the mapping is written.
    constexpr size_t kChunk = 4096;
    const size_t from = std::min(allocated_, entries_ * entry_size_) / kChunk * kChunk;
    const size_t to = std::min(capacity_, (end + kChunk - 1) / kChunk * kChunk);
    std::unique_ptr<File> file;
    if (open_file(file) || file->allocate(static_cast<int64_t>(from), static_cast<int64_t>(to - from))) return nullptr;
    allocated_ = to;
  }
  return map_->data() + (entries_++) * entry_size_;
}

// ---- OffsetIndex ----

OffsetPosition OffsetIndex::at(size_t i) const {
  const uint8_t* p = entry(i);
  return {base_offset_ + load_be32(p), load_be32(p + 4)};
}

bool OffsetIndex::entry_ok(size_t i) const {
  auto e = at(i);
  if (e.offset < base_offset_ || e.position < 0) return false;
  if (i == 0) return true;
  auto prev = at(i - 1);
  return e.offset > prev.offset && e.position > prev.position;
}

void OffsetIndex::append(int64_t offset, int32_t position) {
  if (entries_ > 0 && offset <= at(entries_ - 1).offset) return;
  if (!can_hold(offset)) return;
  uint8_t* slot = append_slot();
  if (slot == nullptr) return;
  store_be32(slot, static_cast<int32_t>(offset - base_offset_));
  store_be32(slot + 4, position);
}

OffsetPosition OffsetIndex::lookup(int64_t target) const {
  // Binary search for the last entry with offset <= target.
  size_t lo = 0, hi = entries_;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (at(mid).offset <= target) lo = mid + 1; else hi = mid;
  }
  if (lo == 0) return {base_offset_, 0};
  return at(lo - 1);
}

void OffsetIndex::truncate_to_position(int64_t position) {
  // Positions increase: keep the prefix below `position`.
  size_t lo = 0, hi = entries_;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (at(mid).position < position) lo = mid + 1; else hi = mid;
  }
  truncate_entries(lo);
}

OffsetPosition OffsetIndex::last() const { return entries_ == 0 ? OffsetPosition{base_offset_, 0} : at(entries_ - 1); }

// ---- TimeIndex ----

TimestampOffset TimeIndex::at(size_t i) const {
  const uint8_t* p = entry(i);
  return {load_be64(p), base_offset_ + load_be32(p + 8)};
}

bool TimeIndex::entry_ok(size_t i) const {
  auto e = at(i);
  if (e.offset < base_offset_) return false;
  if (i == 0) return true;
  auto prev = at(i - 1);
  return e.timestamp > prev.timestamp && e.offset >= prev.offset;
}

void TimeIndex::maybe_append(int64_t timestamp, int64_t offset, bool even_if_full) {
  if (entries_ > 0) {
    auto prev = at(entries_ - 1);
    if (timestamp <= prev.timestamp || offset < prev.offset) return;
  }
  if (offset - base_offset_ > INT32_MAX || offset < base_offset_) return;
  if (full() && even_if_full && resize((entries_ + 1) * entry_size_)) return;
  uint8_t* slot = append_slot();
  if (slot == nullptr) return;
  store_be64(slot, timestamp);
  store_be32(slot + 8, static_cast<int32_t>(offset - base_offset_));
}

TimestampOffset TimeIndex::lookup_before(int64_t target) const {
  size_t lo = 0, hi = entries_;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (at(mid).timestamp < target) lo = mid + 1; else hi = mid;
  }
  if (lo == 0) return {-1, base_offset_};
  return at(lo - 1);
}

void TimeIndex::truncate_to_offset(int64_t offset) {
  // Offsets never decrease: keep the prefix below `offset`.
  size_t lo = 0, hi = entries_;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (at(mid).offset < offset) lo = mid + 1; else hi = mid;
  }
  truncate_entries(lo);
}

TimestampOffset TimeIndex::last() const { return entries_ == 0 ? TimestampOffset{-1, base_offset_} : at(entries_ - 1); }

}  // namespace runnel::storage
