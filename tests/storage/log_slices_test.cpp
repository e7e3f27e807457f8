// Log::read_slices: the batches read() returns, as file slices for sendfile.
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>

#include "batch_builder.h"
#include "storage/log.h"
#include "test_util.h"

using namespace runnel;
using namespace runnel::storage;
using namespace runnel::testing;

namespace {

void append(Log& log, int records, size_t value_size = 50) {
  auto batch = build_batch(records, value_size, 1000);
  ASSERT_EQ(log.append(batch, 0, 5000).error, ErrorCode::kNone);
}

// What a sendfile of the slices would put on the wire.
std::vector<uint8_t> bytes_of(const SliceReadResult& read) {
  std::vector<uint8_t> out;
  for (const auto& slice : read.slices) {
    const size_t at = out.size();
    out.resize(at + static_cast<size_t>(slice.length));
    EXPECT_EQ(::pread(slice.fd, out.data() + at, static_cast<size_t>(slice.length), slice.position), slice.length);
  }
  return out;
}

size_t open_descriptors() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

TEST(LogSlices, SameBatchesAsReadAcrossSegments) {
  TempDir tmp;
  LogConfig config;
  config.segment_bytes = 1000;
  config.index_interval_bytes = 100;
  auto log = open_log(tmp.path() + "/t-0", config);
  for (int i = 0; i < 50; ++i) append(*log, 2);
  ASSERT_GT(log->segment_count(), 5u);
  for (int64_t offset : {0, 1, 7, 33, 99}) {
    for (int32_t max_bytes : {1, 300, 5000, 1 << 20}) {
      const auto copied = log->read(offset, max_bytes, INT64_MAX, true);
      const auto sliced = log->read_slices(offset, max_bytes, INT64_MAX, true);
      ASSERT_EQ(sliced.error, ErrorCode::kNone);
      EXPECT_EQ(bytes_of(sliced), copied.bytes) << offset << " " << max_bytes;
      EXPECT_EQ(sliced.bytes, static_cast<int64_t>(copied.bytes.size()));
      // Adjacent batches of one segment make one slice: one sendfile per segment.
      EXPECT_LE(sliced.slices.size(), log->segment_count());
      for (size_t i = 1; i < sliced.slices.size(); ++i) EXPECT_NE(sliced.slices[i].fd, sliced.slices[i - 1].fd);
    }
  }
  EXPECT_EQ(log->read_slices(100, 1 << 20, INT64_MAX, true).slices.size(), 0u);
  EXPECT_EQ(log->read_slices(101, 1 << 20, INT64_MAX, true).error, ErrorCode::kOffsetOutOfRange);
}

TEST(LogSlices, CountsRecordsFromTheReadOffset) {
  TempDir tmp;
  auto log = open_log(tmp.path() + "/t-0");
  append(*log, 5);  // offsets 0-4
  append(*log, 3);  // 5-7
  EXPECT_EQ(log->read_slices(0, 1 << 20, INT64_MAX, false).records, 8);
  EXPECT_EQ(log->read_slices(2, 1 << 20, INT64_MAX, false).records, 6);  // 2-4 and 5-7
  EXPECT_EQ(log->read_slices(6, 1 << 20, INT64_MAX, false).records, 2);
}

TEST(LogSlices, OutliveTheSegmentsTheyCameFrom) {
  TempDir tmp;
  LogConfig config;
  config.segment_bytes = 1000;
  auto log = open_log(tmp.path() + "/t-0", config);
  for (int i = 0; i < 20; ++i) append(*log, 2);
  ASSERT_EQ(log->flush(), 40);
  const auto before = log->read(0, 1 << 20, INT64_MAX, false).bytes;
  const auto sliced = log->read_slices(0, 1 << 20, INT64_MAX, false);
  // DeleteRecords drops every segment but the active one while a fetch
  // response still holds the slices: their bytes can still be sent.
  ASSERT_EQ(log->delete_records_before(40), ErrorCode::kNone);
  log->apply_retention(5000);  // the retention pass removes the segments below the start
  EXPECT_EQ(log->segment_count(), 1u);
  EXPECT_EQ(bytes_of(sliced), before);
}

TEST(LogSlices, APartitionHoldsOneDescriptorPerSegment) {
  // The indexes are mapped without keeping their files open, so 10,000
  // partitions fit the usual 20,000-descriptor limit.
  TempDir tmp;
  const size_t before = open_descriptors();
  std::vector<std::shared_ptr<Log>> logs;
  for (int i = 0; i < 20; ++i) logs.push_back(open_log(tmp.path() + "/t-" + std::to_string(i)));
  for (auto& log : logs) append(*log, 3);
  EXPECT_LE(open_descriptors() - before, logs.size());
  for (auto& log : logs) EXPECT_EQ(log->read(0, 1 << 20, INT64_MAX, false).error, ErrorCode::kNone);
}

}  // namespace
