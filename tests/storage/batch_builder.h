#pragma once
// Test helper: builds valid, uncompressed Kafka RecordBatch v2 bytes.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "storage/crc32c.h"
#include "storage/record_batch.h"

namespace runnel::testing {

struct TestRecord {
  std::optional<std::string> key;
  std::optional<std::string> value;
  int64_t timestamp_delta = 0;
};

struct BatchSpec {
  int64_t base_offset = 0;
  int64_t base_timestamp = 1'000;
  std::optional<int64_t> max_timestamp;  // default: base + largest delta
  int16_t attributes = 0;
  int32_t partition_leader_epoch = -1;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
};

inline void put_varlong(std::vector<uint8_t>& out, int64_t value) {
  uint64_t v = (static_cast<uint64_t>(value) << 1) ^ static_cast<uint64_t>(value >> 63);  // zigzag
  while (v >= 0x80) {
    out.push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<uint8_t>(v));
}

inline void put_bytes(std::vector<uint8_t>& out, const std::optional<std::string>& s) {
  if (!s) {
    put_varlong(out, -1);
    return;
  }
  put_varlong(out, static_cast<int64_t>(s->size()));
  out.insert(out.end(), s->begin(), s->end());
}

inline std::vector<uint8_t> build_batch(const std::vector<TestRecord>& records, const BatchSpec& spec = {}) {
  using namespace runnel::storage;
  std::vector<uint8_t> out(kBatchHeaderSize, 0);
  int64_t max_delta = 0;
  for (size_t i = 0; i < records.size(); ++i) {
    std::vector<uint8_t> body;
    body.push_back(0);  // record attributes
    put_varlong(body, records[i].timestamp_delta);
    put_varlong(body, static_cast<int64_t>(i));  // offset delta
    put_bytes(body, records[i].key);
    put_bytes(body, records[i].value);
    put_varlong(body, 0);  // no headers
    put_varlong(out, static_cast<int64_t>(body.size()));
    out.insert(out.end(), body.begin(), body.end());
    max_delta = std::max(max_delta, records[i].timestamp_delta);
  }
  uint8_t* p = out.data();
  namespace L = batch_layout;
  store_be64(p + L::kBaseOffset, spec.base_offset);
  store_be32(p + L::kBatchLength, static_cast<int32_t>(out.size() - L::kLogOverhead));
  store_be32(p + L::kPartitionLeaderEpoch, spec.partition_leader_epoch);
  p[L::kMagic] = 2;
  store_be16(p + L::kAttributes, spec.attributes);
  store_be32(p + L::kLastOffsetDelta, static_cast<int32_t>(records.size()) - 1);
  store_be64(p + L::kBaseTimestamp, spec.base_timestamp);
  store_be64(p + L::kMaxTimestamp, spec.max_timestamp.value_or(spec.base_timestamp + max_delta));
  store_be64(p + L::kProducerId, spec.producer_id);
  store_be16(p + L::kProducerEpoch, spec.producer_epoch);
  store_be32(p + L::kBaseSequence, spec.base_sequence);
  store_be32(p + L::kRecordCount, static_cast<int32_t>(records.size()));
  store_be32(p + L::kCrc, static_cast<int32_t>(compute_batch_crc(out)));
  return out;
}

// n records with values of value_size bytes, timestamps base_timestamp + i.
inline std::vector<uint8_t> build_batch(int n, size_t value_size = 10, int64_t base_timestamp = 1'000) {
  std::vector<TestRecord> records;
  for (int i = 0; i < n; ++i)
    records.push_back({std::nullopt, std::string(value_size, static_cast<char>('a' + i % 26)), i});
  BatchSpec spec;
  spec.base_timestamp = base_timestamp;
  return build_batch(records, spec);
}

// Recomputes the CRC after a test modified header fields covered by it.
inline void fix_crc(std::vector<uint8_t>& batch) {
  using namespace runnel::storage;
  store_be32(batch.data() + batch_layout::kCrc, static_cast<int32_t>(compute_batch_crc(batch)));
}

inline void concat(std::vector<uint8_t>& out, const std::vector<uint8_t>& more) {
  out.insert(out.end(), more.begin(), more.end());
}

}  // namespace runnel::testing
