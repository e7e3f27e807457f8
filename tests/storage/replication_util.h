#pragma once
// Helpers for the replication-facing storage tests: batches as a leader wrote
// them (offsets and epochs assigned), and a comparable picture of a log.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "batch_builder.h"
#include "storage/log.h"
#include "test_util.h"

namespace runnel::testing {

struct LeaderBatch {
  int64_t base = 0;
  int records = 1;
  int32_t epoch = 0;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t sequence = -1;
  size_t value_size = 20;
  int64_t timestamp = 1'000;
};

// One batch with its offsets and partitionLeaderEpoch set, as a leader's log holds it.
inline std::vector<uint8_t> leader_batch(const LeaderBatch& b) {
  std::vector<TestRecord> records;
  for (int i = 0; i < b.records; ++i)
    records.push_back({"k" + std::to_string(b.base + i), std::string(b.value_size, static_cast<char>('a' + (b.base + i) % 26)), i});
  BatchSpec spec;
  spec.base_offset = b.base;
  spec.base_timestamp = b.timestamp;
  spec.partition_leader_epoch = b.epoch;
  spec.producer_id = b.producer_id;
  spec.producer_epoch = b.producer_epoch;
  spec.base_sequence = b.sequence;
  return build_batch(records, spec);
}

// Contiguous batches of `per_batch` records from `base`, all in `epoch`.
inline std::vector<uint8_t> leader_batches(int64_t base, int count, int per_batch, int32_t epoch) {
  std::vector<uint8_t> out;
  for (int i = 0; i < count; ++i) concat(out, leader_batch({base + int64_t{i} * per_batch, per_batch, epoch}));
  return out;
}

// Every byte of the log, from its start to its end, ignoring the high watermark.
inline std::vector<uint8_t> read_all(const storage::Log& log) {
  auto r = log.read(log.log_start_offset(), INT32_MAX, INT64_MAX, true);
  EXPECT_EQ(r.error, ErrorCode::kNone);
  return r.bytes;
}

inline std::vector<int64_t> batch_bases(const std::vector<uint8_t>& bytes) {
  std::vector<int64_t> out;
  for_each_batch(bytes, [&](const storage::BatchHeader& h) { out.push_back(h.base_offset); });
  return out;
}

// What two opens of the same log must agree on.
struct LogPicture {
  int64_t start = 0;
  int64_t end = 0;
  std::vector<uint8_t> bytes;
  std::vector<storage::EpochEntry> epochs;
  bool operator==(const LogPicture&) const = default;
};

inline LogPicture picture(const storage::Log& log) {
  return {log.log_start_offset(), log.log_end_offset(), read_all(log), log.epoch_entries()};
}

inline std::string dump(const LogPicture& p) {
  std::string out = "[" + std::to_string(p.start) + ", " + std::to_string(p.end) + ") batches";
  for (int64_t b : batch_bases(p.bytes)) out += " " + std::to_string(b);
  out += " epochs";
  for (const auto& e : p.epochs) out += " (" + std::to_string(e.epoch) + "," + std::to_string(e.start_offset) + ")";
  return out;
}

inline std::shared_ptr<storage::Log> open_follower_log(const std::string& dir, storage::LogConfig config = {},
                                                       bool clean_shutdown = false, storage::Env* env = nullptr,
                                                       int64_t recovery_point = 0, bool hw_follows_flush = true,
                                                       int64_t high_watermark = -1) {
  storage::LogOpenOptions options;
  options.dir = dir;
  options.config = config;
  options.clean_shutdown = clean_shutdown;
  options.recovery_point = recovery_point;
  options.hw_follows_flush = hw_follows_flush;
  options.high_watermark = high_watermark;
  if (env) options.env = env;
  std::error_code ec;
  auto log = storage::Log::open(options, ec);
  EXPECT_FALSE(ec) << ec.message();
  return log;
}

}  // namespace runnel::testing
