#include "storage/producer_state.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "storage/crc32c.h"
#include "storage/record_codec.h"

namespace runnel::storage {

namespace {

bool in_sequence(int32_t last_seq, int32_t next_seq) {
  return int64_t{next_seq} == int64_t{last_seq} + 1 || (next_seq == 0 && last_seq == INT32_MAX);
}

// first seq = last seq - delta, wrapping below 0 as Kafka's decrementSequence.
int32_t first_sequence(int32_t last_seq, int32_t delta) {
  if (last_seq < 0) return -1;
  const int64_t first = int64_t{last_seq} - delta;
  return static_cast<int32_t>(first < 0 ? first + INT32_MAX + 1 : first);
}

}  // namespace

void ProducerEntry::add(int16_t batch_epoch, const ProducerBatch& batch) {
  if (batch_epoch != epoch) {
    batches.clear();
    epoch = batch_epoch;
  }
  if (batches.size() == kProducerBatchesToRetain) batches.pop_front();
  batches.push_back(batch);
  last_timestamp = batch.timestamp;
}

ProducerBatchInfo ProducerBatchInfo::from(const BatchHeader& h) {
  ProducerBatchInfo info;
  info.producer_id = h.producer_id;
  info.epoch = h.producer_epoch;
  info.first_seq = h.base_sequence;
  info.last_seq = last_sequence(h);
  info.offset_delta = h.last_offset_delta;
  info.max_timestamp = h.max_timestamp;
  return info;
}

ProducerStateManager::CheckResult ProducerStateManager::check(std::span<const ProducerBatchInfo> batches) const {
  CheckResult result;
  // Entries as updated by the earlier batches of this same append.
  std::unordered_map<int64_t, ProducerEntry> updated;
  for (const auto& b : batches) {
    if (b.producer_id < 0) continue;
    const auto it = producers_.find(b.producer_id);
    const ProducerEntry* current = it == producers_.end() ? nullptr : &it->second;
    // A retry of one of the last 5 batches (checked against the state before this append).
    if (current && current->epoch == b.epoch) {
      for (const auto& cached : current->batches) {
        if (cached.first_seq == b.first_seq && cached.last_seq == b.last_seq) {
          result.duplicate = cached;
          return result;
        }
      }
    }
    auto up = updated.find(b.producer_id);
    if (up == updated.end()) {
      ProducerEntry fresh;
      fresh.epoch = current ? current->epoch : int16_t{-1};
      up = updated.emplace(b.producer_id, fresh).first;  // same epoch, no batches yet (Kafka's updatedEntry)
    }
    const ProducerEntry& entry = up->second;
    const int16_t current_epoch = current ? current->epoch : int16_t{-1};
    if (b.epoch < entry.epoch) {
      result.error = ErrorCode::kInvalidProducerEpoch;
      return result;
    }
    if (b.epoch != entry.epoch) {
      if (b.first_seq != 0 && entry.epoch != -1) {
        result.error = ErrorCode::kOutOfOrderSequenceNumber;
        return result;
      }
      // A producer this log knows nothing of, starting past sequence 0. If it
      // expired here, its earlier batches were acknowledged long ago: UNKNOWN_PRODUCER_ID
      // lets the client reset its sequence. Otherwise they are unacknowledged (refused,
      // or taken by a leader that lost them): OUT_OF_ORDER_SEQUENCE_NUMBER makes
      // librdkafka drain, bump its epoch and resend them, where UNKNOWN_PRODUCER_ID
      // is fatal to it and accepting would let it infer they were written.
      if (b.first_seq != 0 && entry.epoch == -1) {
        result.error = forgot(b.producer_id) ? ErrorCode::kUnknownProducerId : ErrorCode::kOutOfOrderSequenceNumber;
        return result;
      }
    } else {
      int32_t last_seq = -1;
      if (!entry.batches.empty()) {
        last_seq = entry.batches.back().last_seq;
      } else if (current && b.epoch == current->epoch && !current->batches.empty()) {
        last_seq = current->batches.back().last_seq;
      }
      if (current_epoch != -1 && !in_sequence(last_seq, b.first_seq)) {
        result.error = ErrorCode::kOutOfOrderSequenceNumber;
        return result;
      }
    }
    up->second.add(b.epoch, ProducerBatch{b.first_seq, b.last_seq, -1, -1, b.max_timestamp});
  }
  return result;
}

void ProducerStateManager::commit(std::span<const ProducerBatchInfo> batches, std::span<const int64_t> first_offsets) {
  for (size_t i = 0; i < batches.size() && i < first_offsets.size(); ++i) {
    const auto& b = batches[i];
    if (b.producer_id < 0) continue;
    producers_[b.producer_id].add(
        b.epoch, ProducerBatch{b.first_seq, b.last_seq, first_offsets[i], first_offsets[i] + b.offset_delta,
                               b.max_timestamp});
  }
}

void ProducerStateManager::replay(const BatchHeader& h) {
  if (h.producer_id < 0 || h.control()) return;
  producers_[h.producer_id].add(
      h.producer_epoch, ProducerBatch{h.base_sequence, last_sequence(h), h.base_offset, h.last_offset(), h.max_timestamp});
}

size_t ProducerStateManager::remove_expired(int64_t now_ms, int64_t expiration_ms) {
  // Written as a comparison so client-chosen timestamps cannot overflow it.
  if (expiration_ms < 0 || now_ms < INT64_MIN + expiration_ms) return 0;
  const int64_t horizon = now_ms - expiration_ms;
  std::vector<std::pair<int64_t, int64_t>> expired;  // (last timestamp, id)
  for (const auto& [id, entry] : producers_)
    if (entry.last_timestamp <= horizon) expired.emplace_back(entry.last_timestamp, id);
  // Remembered oldest first, so that the bound drops the longest idle.
  std::sort(expired.begin(), expired.end());
  for (const auto& [timestamp, id] : expired) {
    producers_.erase(id);
    remember_forgotten(id);
  }
  return expired.size();
}

void ProducerStateManager::remember_forgotten(int64_t producer_id) {
  if (!forgotten_.insert(producer_id).second) return;
  forgotten_order_.push_back(producer_id);
  if (forgotten_order_.size() > kForgottenProducersToRemember) {
    forgotten_.erase(forgotten_order_.front());
    forgotten_order_.pop_front();
  }
}

std::unordered_map<int64_t, int64_t> ProducerStateManager::last_offsets() const {
  std::unordered_map<int64_t, int64_t> out;
  for (const auto& [id, entry] : producers_)
    if (!entry.batches.empty()) out[id] = entry.batches.back().last_offset;
  return out;
}

const ProducerEntry* ProducerStateManager::find(int64_t producer_id) const {
  auto it = producers_.find(producer_id);
  return it == producers_.end() ? nullptr : &it->second;
}

// ---- snapshot file ----
// version i16 | crc u32 (CRC32C of everything after it) | count i32 | entries:
// producer_id i64, epoch i16, last_sequence i32, last_offset i64, offset_delta i32,
// timestamp i64, coordinator_epoch i32, current_txn_first_offset i64.

namespace {
constexpr int16_t kSnapshotVersion = 1;
constexpr size_t kFileHeader = 2 + 4 + 4;  // version, crc, count: the snapshot's and the forgotten ids'
constexpr size_t kSnapshotEntry = 8 + 2 + 4 + 8 + 4 + 8 + 4 + 8;
constexpr int16_t kForgottenVersion = 1;

// A file of `count` entries of `entry_size` bytes, header written but for the
// CRC (seal_file); returns where the entries start.
uint8_t* start_file(std::string& out, int16_t version, size_t count, size_t entry_size) {
  out.assign(kFileHeader + count * entry_size, '\0');
  auto* p = reinterpret_cast<uint8_t*>(out.data());
  store_be16(p, version);
  store_be32(p + 6, static_cast<int32_t>(count));
  return p + kFileHeader;
}

void seal_file(std::string& out) {
  auto* p = reinterpret_cast<uint8_t*>(out.data());
  store_be32(p + 2, static_cast<int32_t>(crc32c({p + 6, out.size() - 6})));
}

// The entries of a well-formed file (version, CRC and size checked), or nullptr.
const uint8_t* checked_entries(std::string_view bytes, int16_t version, size_t entry_size, int32_t& count) {
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  if (bytes.size() < kFileHeader || load_be16(p) != version) return nullptr;
  if (static_cast<uint32_t>(load_be32(p + 2)) != crc32c({p + 6, bytes.size() - 6})) return nullptr;
  count = load_be32(p + 6);
  if (count < 0 || bytes.size() != kFileHeader + static_cast<size_t>(count) * entry_size) return nullptr;
  return p + kFileHeader;
}
}  // namespace

std::string ProducerStateManager::serialize() const {
  size_t count = 0;
  for (const auto& [id, entry] : producers_) count += std::max<size_t>(entry.batches.size(), 1);
  std::string out;
  uint8_t* e = start_file(out, kSnapshotVersion, count, kSnapshotEntry);
  auto put = [&](int64_t id, const ProducerEntry& entry, const ProducerBatch* b) {
    store_be64(e, id);
    store_be16(e + 8, entry.epoch);
    store_be32(e + 10, b ? b->last_seq : -1);
    store_be64(e + 14, b ? b->last_offset : -1);
    store_be32(e + 22, b ? static_cast<int32_t>(b->last_offset - b->first_offset) : 0);
    store_be64(e + 26, b ? b->timestamp : entry.last_timestamp);
    store_be32(e + 34, -1);  // coordinator epoch: no transactions
    store_be64(e + 38, -1);  // no ongoing transaction
    e += kSnapshotEntry;
  };
  for (const auto& [id, entry] : producers_) {
    if (entry.batches.empty()) put(id, entry, nullptr);
    for (const auto& b : entry.batches) put(id, entry, &b);
  }
  seal_file(out);
  return out;
}

bool ProducerStateManager::parse(std::string_view bytes) {
  int32_t count = 0;
  const uint8_t* e = checked_entries(bytes, kSnapshotVersion, kSnapshotEntry, count);
  if (!e) return false;
  std::unordered_map<int64_t, ProducerEntry> loaded;
  for (int32_t i = 0; i < count; ++i, e += kSnapshotEntry) {
    const int64_t id = load_be64(e);
    auto& entry = loaded[id];
    const int16_t epoch = load_be16(e + 8);
    const int32_t last_seq = load_be32(e + 10);
    const int64_t last_offset = load_be64(e + 14);
    const int32_t delta = load_be32(e + 22);
    const int64_t timestamp = load_be64(e + 26);
    if (last_offset < 0) {
      entry.epoch = epoch;
      entry.last_timestamp = timestamp;
      continue;
    }
    entry.add(epoch, ProducerBatch{first_sequence(last_seq, delta), last_seq, last_offset - delta, last_offset, timestamp});
  }
  producers_ = std::move(loaded);
  return true;
}

std::string ProducerStateManager::serialize_forgotten() const {
  std::string out;
  uint8_t* e = start_file(out, kForgottenVersion, forgotten_order_.size(), 8);
  for (int64_t id : forgotten_order_) {
    store_be64(e, id);
    e += 8;
  }
  seal_file(out);
  return out;
}

bool ProducerStateManager::parse_forgotten(std::string_view bytes) {
  int32_t count = 0;
  const uint8_t* e = checked_entries(bytes, kForgottenVersion, 8, count);
  if (!e) return false;
  forgotten_.clear();
  forgotten_order_.clear();
  for (int32_t i = 0; i < count; ++i) remember_forgotten(load_be64(e + size_t(i) * 8));
  return true;
}

std::string snapshot_file_name(int64_t offset) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%020" PRId64 ".snapshot", offset);
  return buf;
}

std::optional<int64_t> parse_snapshot_file_name(const std::string& name) {
  constexpr std::string_view kSuffix = ".snapshot";
  if (name.size() != 20 + kSuffix.size() || name.compare(20, kSuffix.size(), kSuffix) != 0) return std::nullopt;
  int64_t value = 0;
  for (size_t i = 0; i < 20; ++i) {
    if (name[i] < '0' || name[i] > '9') return std::nullopt;
    if (value > (INT64_MAX - (name[i] - '0')) / 10) return std::nullopt;
    value = value * 10 + (name[i] - '0');
  }
  return value;
}

}  // namespace runnel::storage
