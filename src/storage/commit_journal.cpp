#include "storage/commit_journal.h"

#include <spdlog/spdlog.h>

#include <cstring>

#include "storage/crc32c.h"
#include "storage/log.h"
#include "storage/record_batch.h"

namespace runnel::storage {

namespace {

constexpr uint32_t kFileMagic = 0x4A4C4E52;    // "RNLJ"
constexpr uint32_t kRecordMagic = 0x434A4E52;  // "RNJC"
constexpr uint32_t kVersion = 1;
constexpr size_t kFileHeaderBytes = 20;    // magic, version, generation, crc
constexpr size_t kRecordHeaderBytes = 20;  // magic, body length, generation, crc
constexpr size_t kItemFixedBytes = 1 + 16 + 2 + 4;
constexpr uint32_t kMaxBodyBytes = 1u << 30;

// Fixed-width fields are big-endian, as in Kafka's own formats (record_batch.h).
void put_u16(uint8_t* at, uint16_t v) { store_be16(at, static_cast<int16_t>(v)); }
void put_u32(uint8_t* at, uint32_t v) { store_be32(at, static_cast<int32_t>(v)); }
void put_u64(uint8_t* at, uint64_t v) { store_be64(at, static_cast<int64_t>(v)); }
uint16_t get_u16(const uint8_t* at) { return static_cast<uint16_t>(load_be16(at)); }
uint32_t get_u32(const uint8_t* at) { return static_cast<uint32_t>(load_be32(at)); }
uint64_t get_u64(const uint8_t* at) { return static_cast<uint64_t>(load_be64(at)); }

// crc32c over the record header's generation and body length, then the body.
uint32_t record_crc(uint64_t generation, uint32_t body_length, std::span<const uint8_t> body) {
  uint8_t fields[12];
  put_u64(fields, generation);
  put_u32(fields + 8, body_length);
  return crc32c_extend(crc32c(fields), body);
}

// Parses a record body into items; false when it is malformed.
bool parse_items(std::span<const uint8_t> body, std::vector<CommitJournal::Item>& out) {
  size_t at = 0;
  while (at < body.size()) {
    if (body.size() - at < kItemFixedBytes) return false;
    CommitJournal::Item item;
    const uint8_t kind = body[at];
    if (kind != static_cast<uint8_t>(CommitJournal::ItemKind::kBatches) &&
        kind != static_cast<uint8_t>(CommitJournal::ItemKind::kForget))
      return false;
    item.kind = static_cast<CommitJournal::ItemKind>(kind);
    std::memcpy(item.topic_id.bytes.data(), body.data() + at + 1, item.topic_id.bytes.size());
    const size_t name_length = get_u16(body.data() + at + 17);
    const size_t batches_length = get_u32(body.data() + at + 19);
    at += kItemFixedBytes;
    if (body.size() - at < name_length || body.size() - at - name_length < batches_length) return false;
    item.name.assign(reinterpret_cast<const char*>(body.data() + at), name_length);
    at += name_length;
    item.batches.assign(body.begin() + static_cast<std::ptrdiff_t>(at),
                        body.begin() + static_cast<std::ptrdiff_t>(at + batches_length));
    at += batches_length;
    out.push_back(std::move(item));
  }
  return true;
}

}  // namespace

std::string_view partition_dir_name(std::string_view dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.remove_suffix(1);
  const auto slash = dir.rfind('/');
  return slash == std::string_view::npos ? dir : dir.substr(slash + 1);
}

CommitJournal::CommitJournal(std::unique_ptr<File> first, std::unique_ptr<File> second) {
  files_[0] = std::move(first);
  files_[1] = std::move(second);
}

namespace {

// The generation in a file's header; 0 for a missing, short or torn one (empty).
std::error_code read_generation(File& file, uint64_t& generation) {
  generation = 0;
  int64_t size = 0;
  if (auto ec = file.size(size)) return ec;
  if (size < CommitJournal::kHeaderBytes) return {};
  uint8_t header[kFileHeaderBytes];
  size_t got = 0;
  if (auto ec = file.read_at(header, 0, got)) return ec;
  if (got == sizeof(header) && get_u32(header) == kFileMagic && get_u32(header + 4) == kVersion &&
      get_u32(header + 16) == crc32c(std::span<const uint8_t>(header, 16)))
    generation = get_u64(header + 8);
  return {};
}

// The records of `generation` from the start, up to the first that does not check out.
std::error_code read_records(File& file, uint64_t generation, std::vector<CommitJournal::Item>& items) {
  int64_t size = 0;
  if (auto ec = file.size(size)) return ec;
  int64_t position = CommitJournal::kHeaderBytes;
  std::vector<uint8_t> body;
  for (;;) {
    uint8_t header[kRecordHeaderBytes];
    size_t got = 0;
    if (size - position < static_cast<int64_t>(sizeof(header))) break;
    if (auto ec = file.read_at(header, position, got)) return ec;
    if (got < sizeof(header) || get_u32(header) != kRecordMagic || get_u64(header + 8) != generation) break;
    const uint32_t length = get_u32(header + 4);
    if (length > kMaxBodyBytes || size - position - static_cast<int64_t>(sizeof(header)) < length) break;
    body.resize(length);
    if (auto ec = file.read_at(body, position + static_cast<int64_t>(sizeof(header)), got)) return ec;
    if (got < length || record_crc(generation, length, body) != get_u32(header + 16)) break;
    std::vector<CommitJournal::Item> parsed;
    if (!parse_items(body, parsed)) break;
    for (auto& item : parsed) items.push_back(std::move(item));
    position += static_cast<int64_t>(sizeof(header)) + length;
  }
  return {};
}

}  // namespace

std::unique_ptr<CommitJournal> CommitJournal::open(Env& env, const std::string& dir, std::vector<Item>& items,
                                                   std::error_code& ec) {
  items.clear();
  std::unique_ptr<File> files[2];
  uint64_t generations[2] = {0, 0};
  bool created = false;
  for (int k = 0; k < 2; ++k) {
    const std::string path = dir + "/" + kCommitJournalFile + "." + std::to_string(k);
    created = created || !env.exists(path);
    if ((ec = env.open_file(path, true, files[k]))) return nullptr;
    if ((ec = read_generation(*files[k], generations[k]))) return nullptr;
  }
  if (created && (ec = env.sync_dir(dir))) return nullptr;
  // The older file's records were written first.
  const int older = generations[0] <= generations[1] ? 0 : 1;
  for (int k : {older, 1 - older})
    if (generations[k] != 0 && (ec = read_records(*files[k], generations[k], items))) return nullptr;
  std::unique_ptr<CommitJournal> journal(new CommitJournal(std::move(files[0]), std::move(files[1])));
  journal->generations_[0] = generations[0];
  journal->generations_[1] = generations[1];
  journal->current_ = 1 - older;
  return journal;
}

std::error_code CommitJournal::write_header(int which, uint64_t generation) {
  std::vector<uint8_t> block(static_cast<size_t>(kHeaderBytes), 0);
  put_u32(block.data(), kFileMagic);
  put_u32(block.data() + 4, kVersion);
  put_u64(block.data() + 8, generation);
  put_u32(block.data() + 16, crc32c(std::span<const uint8_t>(block.data(), 16)));
  if (auto ec = files_[which]->write_at(block, 0)) return ec;
  if (auto ec = files_[which]->sync()) return ec;
  generations_[which] = generation;
  return {};
}

void CommitJournal::begin_record() {
  record_.assign(kRecordHeaderBytes, 0);
}

size_t CommitJournal::put_item_header(ItemKind kind, const Uuid& topic_id, std::string_view name) {
  const size_t start = record_.size();
  record_.resize(start + kItemFixedBytes);
  uint8_t* at = record_.data() + start;
  at[0] = static_cast<uint8_t>(kind);
  std::memcpy(at + 1, topic_id.bytes.data(), topic_id.bytes.size());
  put_u16(at + 17, static_cast<uint16_t>(name.size()));
  put_u32(at + 19, 0);  // the batches' length, set by end_batches()
  record_.insert(record_.end(), name.begin(), name.end());
  return start;
}

std::vector<uint8_t>& CommitJournal::begin_batches(const Uuid& topic_id, std::string_view name) {
  open_item_ = put_item_header(ItemKind::kBatches, topic_id, name);
  return record_;
}

void CommitJournal::end_batches() {
  const uint8_t* item = record_.data() + open_item_;
  const size_t name_length = get_u16(item + 17);
  const size_t batches = record_.size() - open_item_ - kItemFixedBytes - name_length;
  if (batches == 0) {
    record_.resize(open_item_);  // nothing new in this log: no item
    return;
  }
  put_u32(record_.data() + open_item_ + 19, static_cast<uint32_t>(batches));
}

void CommitJournal::add_forget(const Uuid& topic_id, std::string_view name) {
  put_item_header(ItemKind::kForget, topic_id, name);
}

bool CommitJournal::record_empty() const { return record_.size() <= kRecordHeaderBytes; }

std::error_code CommitJournal::commit_record() {
  if (failed_) return std::make_error_code(std::errc::io_error);
  if (record_empty()) return {};
  const auto length = static_cast<uint32_t>(record_.size() - kRecordHeaderBytes);
  put_u32(record_.data(), kRecordMagic);
  put_u32(record_.data() + 4, length);
  put_u64(record_.data() + 8, generations_[current_]);
  put_u32(record_.data() + 16, record_crc(generations_[current_], length,
                                          std::span<const uint8_t>(record_.data() + kRecordHeaderBytes, length)));
  if (auto ec = files_[current_]->write_at(record_, write_position_)) {
    // E.g. a full disk. What part of the record landed fails its CRC and the
    // next record overwrites it: the caller syncs this round's logs itself.
    spdlog::warn("commit journal: write failed, the round syncs its partitions itself: {}", ec.message());
    return ec;
  }
  if (auto ec = files_[current_]->sync()) {
    // After a failed fdatasync what is on disk is unknown (as for a log): no more records.
    spdlog::error("commit journal: fdatasync failed, syncing partitions directly from now on: {}", ec.message());
    failed_ = true;
    return ec;
  }
  write_position_ += static_cast<int64_t>(record_.size());
  return {};
}

std::error_code CommitJournal::forget(Log* log, const Uuid& topic_id, std::string_view name) {
  std::lock_guard lock(mu_);
  if (log) {
    log->flush();
    if (log->failed()) return std::make_error_code(std::errc::io_error);
  }
  if (failed_) return std::make_error_code(std::errc::io_error);
  begin_record();
  add_forget(topic_id, name);
  return commit_record();
}

std::error_code CommitJournal::switch_files() {
  std::lock_guard lock(mu_);
  if (failed_) return std::make_error_code(std::errc::io_error);
  const int next = 1 - current_;
  if (auto ec = write_header(next, std::max(generations_[0], generations_[1]) + 1)) {
    failed_ = true;
    return ec;
  }
  current_ = next;
  write_position_ = kHeaderBytes;
  return {};
}

std::error_code CommitJournal::reset() {
  std::lock_guard lock(mu_);
  if (failed_) return std::make_error_code(std::errc::io_error);
  const uint64_t next = std::max(generations_[0], generations_[1]) + 1;
  // The second file empty first: a crash in between leaves only records that
  // are already in the logs.
  std::error_code ec = write_header(1, 0);
  if (!ec) ec = write_header(0, next);
  if (ec) {
    failed_ = true;
    return ec;
  }
  current_ = 0;
  write_position_ = kHeaderBytes;
  return {};
}

}  // namespace runnel::storage
