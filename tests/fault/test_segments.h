// Test helpers: synthetic partition directories, written with the storage
// library's record codec exactly as a broker lays them out
// (<log_dir>/<topic>-<partition>/<20-digit base offset>.log, checkpoint files
// at the log-dir root).
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "storage/log_manager.h"
#include "storage/record_codec.h"

namespace runnel::fault::testing {

struct KeyValue {
  std::string key;
  std::string value;
};

struct TestBatch {
  int64_t base_offset = 0;
  std::vector<KeyValue> records;  // at base_offset, base_offset + 1, ...
  int32_t leader_epoch = 0;
  storage::CompressionType codec = storage::CompressionType::kNone;
  bool control = false;
  int64_t producer_id = -1;  // idempotent producer id and epoch (-1: none)
  int16_t producer_epoch = -1;
};

inline std::vector<uint8_t> EncodeBatch(const TestBatch& batch) {
  using namespace storage;
  static const uint8_t kNoHeaders[1] = {0};
  std::vector<RecordView> views;
  for (size_t i = 0; i < batch.records.size(); ++i) {
    RecordView r;
    r.offset = batch.base_offset + static_cast<int64_t>(i);
    r.timestamp = 1'000 + r.offset;
    const auto& kv = batch.records[i];
    r.key = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(kv.key.data()), kv.key.size());
    r.value = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(kv.value.data()), kv.value.size());
    r.headers = std::span<const uint8_t>(kNoHeaders, 1);
    views.push_back(r);
  }
  BatchHeader h;
  h.base_offset = batch.base_offset;
  h.partition_leader_epoch = batch.leader_epoch;
  h.attributes = static_cast<int16_t>(static_cast<int16_t>(batch.codec) | (batch.control ? batch_attr::kControl : 0));
  h.last_offset_delta = static_cast<int32_t>(batch.records.size()) - 1;
  h.max_timestamp = 1'000;
  h.producer_id = batch.producer_id;
  h.producer_epoch = batch.producer_epoch;
  std::vector<uint8_t> out;
  EXPECT_TRUE(encode_batch(h, views, -1, out));
  return out;
}

// A fresh temp dir, removed at the end of the scope.
class TempDir {
 public:
  TempDir() {
    char templ[] = "/tmp/runnel-fault-XXXXXX";
    path_ = ::mkdtemp(templ) != nullptr ? templ : "";
    EXPECT_FALSE(path_.empty());
  }
  ~TempDir() {
    std::error_code ec;
    if (path_.rfind("/tmp/runnel-fault-", 0) == 0) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline std::string PartitionDir(const std::string& log_dir, const std::string& topic, int32_t partition) {
  return log_dir + "/" + topic + "-" + std::to_string(partition);
}

// Writes one segment file <segment_base>.log with the batches, then `tail`
// (raw bytes, e.g. a torn batch). Returns its path.
inline std::string WriteSegment(const std::string& log_dir, const std::string& topic, int32_t partition,
                                int64_t segment_base, const std::vector<TestBatch>& batches,
                                const std::vector<uint8_t>& tail = {}) {
  const std::string dir = PartitionDir(log_dir, topic, partition);
  std::filesystem::create_directories(dir);
  char name[32];
  std::snprintf(name, sizeof name, "%020lld.log", static_cast<long long>(segment_base));
  const std::string path = dir + "/" + name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  for (const auto& b : batches) {
    const auto bytes = EncodeBatch(b);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }
  out.write(reinterpret_cast<const char*>(tail.data()), static_cast<std::streamsize>(tail.size()));
  return path;
}

// A whole partition in one segment: records[i] at offset i, `per_batch` per batch.
inline void WritePartition(const std::string& log_dir, const std::string& topic, int32_t partition,
                           const std::vector<KeyValue>& records, size_t per_batch = 3,
                           storage::CompressionType codec = storage::CompressionType::kNone) {
  std::vector<TestBatch> batches;
  for (size_t i = 0; i < records.size(); i += per_batch) {
    TestBatch b;
    b.base_offset = static_cast<int64_t>(i);
    b.codec = codec;
    for (size_t j = i; j < records.size() && j < i + per_batch; ++j) b.records.push_back(records[j]);
    batches.push_back(b);
  }
  WriteSegment(log_dir, topic, partition, 0, batches);
}

// Kafka's replication-offset-checkpoint (the high watermarks of a log dir).
inline void WriteHighWatermarks(const std::string& log_dir, const storage::CheckpointEntries& entries) {
  std::ofstream(log_dir + "/replication-offset-checkpoint") << storage::format_offset_checkpoint(entries);
}

inline void WriteLogStartOffsets(const std::string& log_dir, const storage::CheckpointEntries& entries) {
  std::ofstream(log_dir + "/" + storage::kLogStartOffsetCheckpointFile) << storage::format_offset_checkpoint(entries);
}

}  // namespace runnel::fault::testing
