#include "storage/log.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "batch_builder.h"
#include "storage/segment.h"
#include "test_util.h"

using namespace runnel;
using namespace runnel::storage;
using namespace runnel::testing;

namespace {

AppendResult append_records(Log& log, int n, size_t value_size = 10, int64_t ts = 1000, int64_t now = 5000) {
  auto b = build_batch(n, value_size, ts);
  return log.append(b, 3, now);
}

std::vector<int64_t> base_offsets(const std::vector<uint8_t>& bytes) {
  std::vector<int64_t> out;
  for_each_batch(bytes, [&](const BatchHeader& h) { out.push_back(h.base_offset); });
  return out;
}

}  // namespace

TEST(Log, NewLogHasOneEmptySegment) {
  TempDir tmp;
  auto log = open_log(tmp.path() + "/t-0");
  EXPECT_EQ(log->log_start_offset(), 0);
  EXPECT_EQ(log->log_end_offset(), 0);
  EXPECT_TRUE(std::filesystem::exists(tmp.path() + "/t-0/00000000000000000000.log"));
  EXPECT_TRUE(std::filesystem::exists(tmp.path() + "/t-0/00000000000000000000.index"));
  EXPECT_EQ(std::filesystem::file_size(tmp.path() + "/t-0/00000000000000000000.index"), 10u << 20);
}

TEST(Log, AppendAssignsOffsetsAndEpoch) {
  TempDir tmp;
  auto log = open_log(tmp.path() + "/t-0");
  auto data = build_batch(3);
  concat(data, build_batch(2));
  auto r = log->append(data, 7, 5000);
  ASSERT_EQ(r.error, ErrorCode::kNone);
  EXPECT_EQ(r.base_offset, 0);
  EXPECT_EQ(r.last_offset, 4);
  EXPECT_EQ(r.record_count, 5);
  EXPECT_EQ(r.log_append_time_ms, -1);
  auto r2 = append_records(*log, 4);
  EXPECT_EQ(r2.base_offset, 5);
  EXPECT_EQ(r2.last_offset, 8);
  EXPECT_EQ(log->log_end_offset(), 9);

  auto read = log->read(0, 1 << 20, INT64_MAX, true);
  ASSERT_EQ(read.error, ErrorCode::kNone);
  EXPECT_EQ(base_offsets(read.bytes), (std::vector<int64_t>{0, 3, 5}));
  for_each_batch(read.bytes, [](const BatchHeader& h) { EXPECT_TRUE(h.partition_leader_epoch == 7 || h.partition_leader_epoch == 3); });
  ValidationConfig vc;
  EXPECT_EQ(validate_batches(read.bytes, vc).error, ErrorCode::kNone);  // CRCs still valid
}

TEST(Log, RejectsInvalidBatchWithoutChangingLog) {
  TempDir tmp;
  auto log = open_log(tmp.path() + "/t-0");
  auto b = build_batch(2);
  b.back() ^= 1;
  EXPECT_EQ(log->append(b, 0, 0).error, ErrorCode::kCorruptMessage);
  EXPECT_EQ(log->log_end_offset(), 0);
}

TEST(Log, LogAppendTime) {
  TempDir tmp;
  LogConfig config;
  config.log_append_time = true;
  auto log = open_log(tmp.path() + "/t-0", config);
  auto r = append_records(*log, 2, 10, 1000, 77'000);
  EXPECT_EQ(r.log_append_time_ms, 77'000);
  auto read = log->read(0, 1 << 20, INT64_MAX, true);
  auto h = parse_batch_header(read.bytes);
  EXPECT_TRUE(h.log_append_time());
  EXPECT_EQ(h.max_timestamp, 77'000);
  EXPECT_EQ(validate_batches(read.bytes, {}).error, ErrorCode::kNone);
}

TEST(Log, RollsBySizeAndReadsAcrossSegments) {
  TempDir tmp;
  LogConfig config;
  config.segment_bytes = 1000;
  config.index_interval_bytes = 100;
  auto log = open_log(tmp.path() + "/t-0", config);
  for (int i = 0; i < 50; ++i) ASSERT_EQ(append_records(*log, 2, 50).error, ErrorCode::kNone);
  EXPECT_GT(log->segment_count(), 5u);
  auto bases = log->segment_base_offsets();
  for (size_t i = 0; i + 1 < bases.size(); ++i) {
    // Rolled segments' indexes are trimmed to their real size.
    auto index = tmp.path() + "/t-0/" + Segment::file_name(bases[i], ".index");
    EXPECT_LT(std::filesystem::file_size(index), 1000u);
    EXPECT_LE(std::filesystem::file_size(tmp.path() + "/t-0/" + Segment::file_name(bases[i], ".log")), 1000u);
  }
  // Read from every offset: the first batch returned contains it.
  for (int64_t off = 0; off < 100; ++off) {
    auto r = log->read(off, 300, INT64_MAX, true);
    ASSERT_EQ(r.error, ErrorCode::kNone);
    ASSERT_FALSE(r.bytes.empty()) << off;
    auto h = parse_batch_header(r.bytes);
    EXPECT_LE(h.base_offset, off);
    EXPECT_GE(h.last_offset(), off);
  }
  // A large read spans segments and returns everything in order.
  auto all = log->read(0, 1 << 20, INT64_MAX, false);
  auto offs = base_offsets(all.bytes);
  ASSERT_EQ(offs.size(), 50u);
  for (size_t i = 0; i < offs.size(); ++i) EXPECT_EQ(offs[i], static_cast<int64_t>(2 * i));
}

TEST(Log, OversizedBatchStillWritten) {
  TempDir tmp;
  LogConfig config;
  config.segment_bytes = 200;
  auto log = open_log(tmp.path() + "/t-0", config);
  ASSERT_EQ(append_records(*log, 1, 10).error, ErrorCode::kNone);
  ASSERT_EQ(append_records(*log, 5, 100).error, ErrorCode::kNone);  // > segment_bytes
  ASSERT_EQ(append_records(*log, 1, 10).error, ErrorCode::kNone);
  EXPECT_EQ(log->segment_base_offsets(), (std::vector<int64_t>{0, 1, 6}));
}

TEST(Log, RollsBySegmentMs) {
  TempDir tmp;
  LogConfig config;
  config.segment_ms = 1000;
  auto log = open_log(tmp.path() + "/t-0", config);
  append_records(*log, 1, 10, 1000, 10'000);
  append_records(*log, 1, 10, 1000, 10'500);
  EXPECT_EQ(log->segment_count(), 1u);
  append_records(*log, 1, 10, 1000, 11'001);
  EXPECT_EQ(log->segment_base_offsets(), (std::vector<int64_t>{0, 2}));
}

TEST(Log, ReadNeverPastMaxOffset) {
  TempDir tmp;
  auto log = open_log(tmp.path() + "/t-0");
  for (int i = 0; i < 5; ++i) append_records(*log, 2);  // batches 0-1, 2-3, ..., 8-9
  EXPECT_EQ(base_offsets(log->read(0, 1 << 20, 4, true).bytes), (std::vector<int64_t>{0, 2}));
  EXPECT_EQ(base_offsets(log->read(0, 1 << 20, 5, true).bytes), (std::vector<int64_t>{0, 2}));  // 4-5 straddles
  EXPECT_TRUE(log->read(4, 1 << 20, 4, true).bytes.empty());
  EXPECT_EQ(log->read(4, 1 << 20, 4, true).error, ErrorCode::kNone);
  // The high watermark only moves with flush().
  EXPECT_EQ(log->high_watermark(), 0);
  EXPECT_TRUE(log->read(0, 1 << 20, log->high_watermark(), true).bytes.empty());
  EXPECT_EQ(log->flush(), 10);
  EXPECT_EQ(log->high_watermark(), 10);
  EXPECT_EQ(base_offsets(log->read(0, 1 << 20, log->high_watermark(), true).bytes).size(), 5u);
}

TEST(Log, MinOneBatchKip74) {
  TempDir tmp;
  auto log = open_log(tmp.path() + "/t-0");
  append_records(*log, 3, 200);
  append_records(*log, 3, 200);
  auto one = log->read(0, 10, INT64_MAX, true);
  EXPECT_EQ(base_offsets(one.bytes), (std::vector<int64_t>{0}));
  EXPECT_TRUE(log->read(0, 10, INT64_MAX, false).bytes.empty());
  // max_bytes bounds everything after the first batch.
  auto first_size = one.bytes.size();
  EXPECT_EQ(log->read(0, static_cast<int32_t>(first_size + 10), INT64_MAX, true).bytes.size(), first_size);
}

TEST(Log, OffsetOutOfRange) {
  TempDir tmp;
  auto log = open_log(tmp.path() + "/t-0");
  append_records(*log, 3);
  EXPECT_EQ(log->read(4, 1000, INT64_MAX, true).error, ErrorCode::kOffsetOutOfRange);
  EXPECT_EQ(log->read(-1, 1000, INT64_MAX, true).error, ErrorCode::kOffsetOutOfRange);
  auto at_end = log->read(3, 1000, INT64_MAX, true);
  EXPECT_EQ(at_end.error, ErrorCode::kNone);
  EXPECT_TRUE(at_end.bytes.empty());
}

TEST(Log, OffsetForTimestampNamesTheRecord) {
  TempDir tmp;
  LogConfig config;
  config.segment_bytes = 600;
  config.index_interval_bytes = 50;
  auto log = open_log(tmp.path() + "/t-0", config);
  // Batch i holds offsets 2i, 2i+1 with timestamps 1000 + 10i and 1000 + 10i + 1.
  for (int i = 0; i < 40; ++i) append_records(*log, 2, 20, 1000 + 10 * i);
  ASSERT_GT(log->segment_count(), 2u);
  EXPECT_EQ(log->offset_for_timestamp(0), (RecordPosition{0, 1000}));
  EXPECT_EQ(log->offset_for_timestamp(1001), (RecordPosition{1, 1001}));
  EXPECT_EQ(log->offset_for_timestamp(1002), (RecordPosition{2, 1010}));
  for (int i = 0; i < 40; ++i) {
    EXPECT_EQ(log->offset_for_timestamp(1000 + 10 * i), (RecordPosition{2 * i, 1000 + 10 * i})) << i;
    EXPECT_EQ(log->offset_for_timestamp(1000 + 10 * i + 1), (RecordPosition{2 * i + 1, 1000 + 10 * i + 1})) << i;
  }
  EXPECT_FALSE(log->offset_for_timestamp(1000 + 10 * 39 + 2).has_value());
}

TEST(Log, OffsetForTimestampSkipsRecordsBelowTheLogStart) {
  TempDir tmp;
  auto log = open_log(tmp.path() + "/t-0");
  append_records(*log, 4, 20, 1000);  // offsets 0..3, timestamps 1000..1003
  log->flush();
  ASSERT_EQ(log->delete_records_before(2), ErrorCode::kNone);
  EXPECT_EQ(log->offset_for_timestamp(0), (RecordPosition{2, 1002}));
}

TEST(Log, OffsetOfMaxTimestampIsTheFirstRecordWithIt) {
  TempDir tmp;
  LogConfig config;
  config.segment_bytes = 600;
  auto log = open_log(tmp.path() + "/t-0", config);
  EXPECT_FALSE(log->offset_of_max_timestamp().has_value());  // empty log
  append_records(*log, 3, 20, 5000);  // offsets 0..2: 5000..5002
  for (int i = 0; i < 20; ++i) append_records(*log, 2, 20, 1000 + i);
  append_records(*log, 3, 20, 5001);  // offsets 43..45: 5001..5003 (the maximum, at 45)
  for (int i = 0; i < 20; ++i) append_records(*log, 2, 20, 2000 + i);
  ASSERT_GT(log->segment_count(), 2u);
  EXPECT_EQ(log->offset_of_max_timestamp(), (RecordPosition{45, 5003}));
}

TEST(Log, AppendRepairsAMaxTimestampOfMinusOneSoTimeLookupsFindIt) {
  TempDir tmp;
  auto log = open_log(tmp.path() + "/t-0");
  BatchSpec spec;
  spec.base_timestamp = 2'000;
  spec.max_timestamp = -1;  // as Sarama before 1.24 sends it
  auto batch = build_batch({{"a", "1", 0}, {"b", "2", 5}}, spec);
  ASSERT_EQ(log->append(batch, 3, 5000).error, ErrorCode::kNone);
  log->flush();
  EXPECT_EQ(log->offset_for_timestamp(2'003), (RecordPosition{1, 2'005}));
}

TEST(Log, FlushAdvancesHighWatermarkAndIsConcurrentWithAppends) {
  TempDir tmp;
  LogConfig config;
  config.segment_bytes = 2000;
  auto log = open_log(tmp.path() + "/t-0", config);
  std::atomic<bool> done{false};
  std::thread flusher([&] {
    while (!done) log->flush();
  });
  for (int i = 0; i < 300; ++i) ASSERT_EQ(append_records(*log, 1, 30).error, ErrorCode::kNone);
  done = true;
  flusher.join();
  EXPECT_EQ(log->flush(), 300);
  EXPECT_EQ(log->high_watermark(), 300);
}
