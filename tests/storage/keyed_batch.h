#pragma once
// Test helper: keyed (optionally compressed, optionally idempotent) batches built
// with the storage record codec, and reading a log back as (offset, key, value).
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "storage/log.h"
#include "storage/record_codec.h"

namespace runnel::testing {

struct KV {
  std::string key;
  std::optional<std::string> value;  // nullopt: tombstone
};

struct KeyedBatchSpec {
  storage::CompressionType codec = storage::CompressionType::kNone;
  int64_t timestamp = 1'000;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
};

inline std::vector<uint8_t> keyed_batch(const std::vector<KV>& kvs, const KeyedBatchSpec& spec = {}) {
  using namespace storage;
  std::vector<std::vector<uint8_t>> storage(kvs.size() * 2);
  std::vector<RecordView> records;
  static const uint8_t kNoHeaders[1] = {0};
  for (size_t i = 0; i < kvs.size(); ++i) {
    RecordView r;
    r.offset = static_cast<int64_t>(i);
    r.timestamp = spec.timestamp;
    storage[2 * i].assign(kvs[i].key.begin(), kvs[i].key.end());
    r.key = std::span<const uint8_t>(storage[2 * i]);
    if (kvs[i].value) {
      storage[2 * i + 1].assign(kvs[i].value->begin(), kvs[i].value->end());
      r.value = std::span<const uint8_t>(storage[2 * i + 1]);
    }
    r.headers = std::span<const uint8_t>(kNoHeaders, 1);
    records.push_back(r);
  }
  BatchHeader h;
  h.base_offset = 0;
  h.partition_leader_epoch = -1;
  h.attributes = static_cast<int16_t>(spec.codec);
  h.last_offset_delta = static_cast<int32_t>(kvs.size()) - 1;
  h.max_timestamp = spec.timestamp;
  h.producer_id = spec.producer_id;
  h.producer_epoch = spec.producer_epoch;
  h.base_sequence = spec.base_sequence;
  std::vector<uint8_t> out;
  encode_batch(h, records, -1, out);
  return out;
}

struct ReadRecord {
  int64_t offset;
  std::string key;
  std::optional<std::string> value;
};

// Every record of the log from its start to its end (decoded, decompressed).
inline std::vector<ReadRecord> read_all(const storage::Log& log, std::vector<storage::BatchHeader>* headers = nullptr) {
  using namespace storage;
  std::vector<ReadRecord> out;
  int64_t next = log.log_start_offset();
  for (int guard = 0; guard < 100000 && next < log.log_end_offset(); ++guard) {
    auto read = log.read(next, 1 << 20, INT64_MAX, true);
    if (read.error != ErrorCode::kNone || read.bytes.empty()) break;
    size_t pos = 0;
    while (pos + kBatchHeaderSize <= read.bytes.size()) {
      auto h = parse_batch_header({read.bytes.data() + pos, read.bytes.size() - pos});
      DecodedBatch batch;
      std::string error;
      if (!decode_batch({read.bytes.data() + pos, static_cast<size_t>(h.total_size())}, batch, &error)) {
        ADD_FAILURE() << "undecodable batch at " << h.base_offset << ": " << error;
        return out;
      }
      if (headers) headers->push_back(h);
      for (const auto& r : batch.records) {
        if (r.offset < log.log_start_offset()) continue;
        ReadRecord rr{r.offset, r.key ? std::string(r.key->begin(), r.key->end()) : std::string(), std::nullopt};
        if (r.value) rr.value = std::string(r.value->begin(), r.value->end());
        out.push_back(rr);
      }
      next = h.last_offset() + 1;
      pos += static_cast<size_t>(h.total_size());
    }
  }
  return out;
}

}  // namespace runnel::testing
