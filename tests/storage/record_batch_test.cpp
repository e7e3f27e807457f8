#include "storage/record_batch.h"

#include <gtest/gtest.h>

#include "batch_builder.h"

using namespace runnel;
using namespace runnel::storage;
using namespace runnel::testing;
namespace L = runnel::storage::batch_layout;

namespace {
ValidationResult validate(const std::vector<uint8_t>& data, int32_t max_message_bytes = 1048588) {
  ValidationConfig config;
  config.max_message_bytes = max_message_bytes;
  return validate_batches(data, config);
}
}  // namespace

TEST(RecordBatch, ParsesHeaderOfBuiltBatch) {
  auto b = build_batch({{"k", "v", 0}, {std::nullopt, "w", 5}});
  auto h = parse_batch_header(b);
  EXPECT_EQ(h.magic, 2);
  EXPECT_EQ(h.record_count, 2);
  EXPECT_EQ(h.last_offset_delta, 1);
  EXPECT_EQ(h.base_timestamp, 1000);
  EXPECT_EQ(h.max_timestamp, 1005);
  EXPECT_EQ(h.total_size(), static_cast<int64_t>(b.size()));
  EXPECT_EQ(h.crc, compute_batch_crc(b));
}

TEST(RecordBatch, ValidatesSeveralBatches) {
  auto data = build_batch(3);
  concat(data, build_batch(2));
  auto r = validate(data);
  ASSERT_EQ(r.error, ErrorCode::kNone);
  EXPECT_EQ(r.record_count, 5);
  ASSERT_EQ(r.batches.size(), 2u);
  EXPECT_EQ(r.batches[0].position, 0u);
  EXPECT_EQ(r.batches[1].position, r.batches[0].size());
}

TEST(RecordBatch, RejectsBadCrc) {
  auto b = build_batch(3);
  b.back() ^= 0xFF;
  EXPECT_EQ(validate(b).error, ErrorCode::kCorruptMessage);
}

TEST(RecordBatch, RejectsWrongMagic) {
  auto b = build_batch(1);
  b[L::kMagic] = 1;
  EXPECT_EQ(validate(b).error, ErrorCode::kUnsupportedForMessageFormat);
  b[L::kMagic] = 0;
  EXPECT_EQ(validate(b).error, ErrorCode::kUnsupportedForMessageFormat);
  b[L::kMagic] = 7;
  EXPECT_EQ(validate(b).error, ErrorCode::kCorruptMessage);
}

TEST(RecordBatch, RejectsShortLength) {
  auto b = build_batch(1);
  store_be32(b.data() + L::kBatchLength, 10);
  EXPECT_EQ(validate(b).error, ErrorCode::kCorruptMessage);
  store_be32(b.data() + L::kBatchLength, -5);
  EXPECT_EQ(validate(b).error, ErrorCode::kCorruptMessage);
}

TEST(RecordBatch, RejectsHugeLength) {
  auto b = build_batch(1);
  store_be32(b.data() + L::kBatchLength, INT32_MAX);
  EXPECT_EQ(validate(b).error, ErrorCode::kCorruptMessage);
}

TEST(RecordBatch, RejectsPartialTrailingBatch) {
  auto data = build_batch(2);
  auto second = build_batch(2);
  data.insert(data.end(), second.begin(), second.begin() + 30);
  EXPECT_EQ(validate(data).error, ErrorCode::kCorruptMessage);
  auto stub = build_batch(2);
  stub.insert(stub.end(), {0, 0, 0, 0, 0});  // shorter than the length field
  EXPECT_EQ(validate(stub).error, ErrorCode::kCorruptMessage);
  EXPECT_EQ(validate({}).error, ErrorCode::kCorruptMessage);
}

TEST(RecordBatch, RejectsRecordCountMismatch) {
  auto b = build_batch(3);
  store_be32(b.data() + L::kLastOffsetDelta, 5);
  fix_crc(b);
  EXPECT_EQ(validate(b).error, ErrorCode::kInvalidRecord);
  auto c = build_batch(3);
  store_be32(c.data() + L::kRecordCount, 0);
  store_be32(c.data() + L::kLastOffsetDelta, -1);
  fix_crc(c);
  EXPECT_EQ(validate(c).error, ErrorCode::kInvalidRecord);
}

TEST(RecordBatch, RejectsBadCodec) {
  for (int16_t codec : {5, 6, 7}) {
    auto b = build_batch(1);
    store_be16(b.data() + L::kAttributes, codec);
    fix_crc(b);
    EXPECT_EQ(validate(b).error, ErrorCode::kCorruptMessage) << codec;
  }
  auto zstd = build_batch(1);
  store_be16(zstd.data() + L::kAttributes, 4);  // valid codec id; not decompressed
  fix_crc(zstd);
  EXPECT_EQ(validate(zstd).error, ErrorCode::kNone);
}

TEST(RecordBatch, RejectsTooLargeBatch) {
  auto b = build_batch(10, 100);
  EXPECT_EQ(validate(b, static_cast<int32_t>(b.size())).error, ErrorCode::kNone);
  EXPECT_EQ(validate(b, static_cast<int32_t>(b.size()) - 1).error, ErrorCode::kMessageTooLarge);
  ValidationConfig config;
  config.max_records_bytes = static_cast<int64_t>(b.size()) - 1;
  EXPECT_EQ(validate_batches(b, config).error, ErrorCode::kRecordListTooLarge);
}

TEST(RecordBatch, PatchesOutsideCrcKeepCrcValid) {
  auto b = build_batch(3);
  set_base_offset(b, 12345);
  set_partition_leader_epoch(b, 7);
  auto h = parse_batch_header(b);
  EXPECT_EQ(h.base_offset, 12345);
  EXPECT_EQ(h.partition_leader_epoch, 7);
  EXPECT_EQ(validate(b).error, ErrorCode::kNone);
}

TEST(RecordBatch, LogAppendTimeRecomputesCrc) {
  auto b = build_batch(3);
  set_log_append_time(b, 99'999);
  auto h = parse_batch_header(b);
  EXPECT_TRUE(h.log_append_time());
  EXPECT_EQ(h.max_timestamp, 99'999);
  EXPECT_EQ(h.base_timestamp, 1000);
  EXPECT_EQ(validate(b).error, ErrorCode::kNone);
}
