#include "replica_log.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "test_segments.h"

namespace runnel::fault {
namespace {

using storage::CompressionType;
using testing::KeyValue;
using testing::TempDir;
using testing::TestBatch;

std::vector<KeyValue> Numbered(int n, const std::string& prefix = "v") {
  std::vector<KeyValue> out;
  for (int i = 0; i < n; ++i) out.push_back({"k" + std::to_string(i % 3), prefix + std::to_string(i)});
  return out;
}

std::map<std::string, std::string> Snapshot(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::stringstream s;
    s << std::ifstream(e.path(), std::ios::binary).rdbuf();
    files[e.path().string()] = s.str();
  }
  return files;
}

TEST(ReplicaLog, ReadsRecordsEpochsAndCheckpointsAcrossSegments) {
  TempDir dir;
  TestBatch a{0, {{"k0", "v0"}, {"k1", "v1"}, {"k2", "v2"}}, 1};
  TestBatch b{3, {{"k0", "v3"}, {"k1", "v4"}}, 1};
  TestBatch c{5, {{"k2", "v5"}}, 2};
  TestBatch d{6, {{"k0", "v6"}, {"k1", "v7"}}, 3};
  testing::WriteSegment(dir.path(), "orders", 2, 0, {a, b});
  testing::WriteSegment(dir.path(), "orders", 2, 5, {c, d});
  testing::WriteHighWatermarks(dir.path(), {{{"orders", 2}, 7}, {{"orders", 0}, 100}});
  testing::WriteLogStartOffsets(dir.path(), {{{"orders", 2}, 0}});

  ReplicaLog log = ReadReplica(dir.path(), "orders", 2);
  EXPECT_TRUE(log.found);
  EXPECT_TRUE(log.problems.empty()) << log.problems.front();
  ASSERT_EQ(log.records.size(), 8u);
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(log.records[i].offset, i);
    EXPECT_EQ(log.records[i].value, "v" + std::to_string(i));
  }
  EXPECT_EQ(log.records[2].key, "k2");
  EXPECT_EQ(log.records[4].leader_epoch, 1);
  EXPECT_EQ(log.records[5].leader_epoch, 2);
  EXPECT_EQ(log.records[7].leader_epoch, 3);
  EXPECT_EQ(log.high_watermark, 7);
  EXPECT_EQ(log.checkpointed_log_start, 0);
  EXPECT_EQ(log.log_start_offset, 0);
  EXPECT_EQ(log.log_end_offset, 8);
  EXPECT_EQ(log.torn_tail_bytes, 0);
  EXPECT_EQ(log.Name(), dir.path() + "/orders-2");
}

TEST(ReplicaLog, ReadsEveryCompressionCodec) {
  for (auto codec : {CompressionType::kGzip, CompressionType::kSnappy, CompressionType::kLz4, CompressionType::kZstd}) {
    TempDir dir;
    testing::WritePartition(dir.path(), "t", 0, Numbered(20, std::string(50, 'x')), 7, codec);
    ReplicaLog log = ReadReplica(dir.path(), "t", 0);
    EXPECT_TRUE(log.problems.empty()) << static_cast<int>(codec) << ": " << log.problems.front();
    ASSERT_EQ(log.records.size(), 20u) << static_cast<int>(codec);
    EXPECT_EQ(log.records[19].value, std::string(50, 'x') + "19");
    EXPECT_EQ(log.log_end_offset, 20);
  }
}

TEST(ReplicaLog, MissingCheckpointsLeaveTheHighWatermarkUnknown) {
  TempDir dir;
  testing::WriteSegment(dir.path(), "t", 0, 10, {TestBatch{10, {{"k", "a"}, {"k", "b"}}}});
  ReplicaLog log = ReadReplica(dir.path(), "t", 0);
  EXPECT_TRUE(log.problems.empty());
  EXPECT_FALSE(log.high_watermark.has_value());
  EXPECT_FALSE(log.checkpointed_log_start.has_value());
  EXPECT_EQ(log.log_start_offset, 10) << "the first segment's base offset";
  EXPECT_EQ(log.log_end_offset, 12);

  // A checkpoint that does not mention the partition: still unknown.
  testing::WriteHighWatermarks(dir.path(), {{{"other", 0}, 5}});
  EXPECT_FALSE(ReadReplica(dir.path(), "t", 0).high_watermark.has_value());
}

TEST(ReplicaLog, MissingPartitionDirIsNotFound) {
  TempDir dir;
  ReplicaLog log = ReadReplica(dir.path(), "t", 3);
  EXPECT_FALSE(log.found);
  EXPECT_TRUE(log.records.empty());
  EXPECT_TRUE(log.problems.empty());
}

TEST(ReplicaLog, RecordsBelowTheCheckpointedLogStartAreLeftOut) {
  TempDir dir;
  testing::WritePartition(dir.path(), "t", 0, Numbered(6), 3);
  testing::WriteLogStartOffsets(dir.path(), {{{"t", 0}, 4}});
  ReplicaLog log = ReadReplica(dir.path(), "t", 0);
  EXPECT_EQ(log.log_start_offset, 4);
  ASSERT_EQ(log.records.size(), 2u);
  EXPECT_EQ(log.records[0].offset, 4);
}

TEST(ReplicaLog, TornTailIsReportedButNotAProblem) {
  TempDir dir;
  auto torn = testing::EncodeBatch(TestBatch{3, {{"k", "never completed"}}});
  torn.resize(torn.size() / 2);
  testing::WriteSegment(dir.path(), "t", 0, 0, {TestBatch{0, {{"k", "a"}, {"k", "b"}, {"k", "c"}}}}, torn);
  ReplicaLog log = ReadReplica(dir.path(), "t", 0);
  EXPECT_TRUE(log.problems.empty()) << log.problems.front();
  EXPECT_EQ(log.torn_tail_bytes, static_cast<int64_t>(torn.size()));
  EXPECT_EQ(log.records.size(), 3u);
  EXPECT_EQ(log.log_end_offset, 3);
}

TEST(ReplicaLog, IncompleteBatchBeforeTheLastSegmentIsAProblem) {
  TempDir dir;
  testing::WriteSegment(dir.path(), "t", 0, 0, {TestBatch{0, {{"k", "a"}}}}, {0, 0, 0});
  testing::WriteSegment(dir.path(), "t", 0, 1, {TestBatch{1, {{"k", "b"}}}});
  ReplicaLog log = ReadReplica(dir.path(), "t", 0);
  ASSERT_EQ(log.problems.size(), 1u);
  EXPECT_NE(log.problems[0].find("incomplete batch"), std::string::npos) << log.problems[0];
  EXPECT_EQ(log.records.size(), 2u);
}

TEST(ReplicaLog, CorruptBatchIsAProblemAndEndsTheSegment) {
  TempDir dir;
  const std::string path = testing::WriteSegment(
      dir.path(), "t", 0, 0, {TestBatch{0, {{"k", "a"}}}, TestBatch{1, {{"k", "b"}}}, TestBatch{2, {{"k", "c"}}}});
  const size_t first = testing::EncodeBatch(TestBatch{0, {{"k", "a"}}}).size();
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(first + storage::kBatchHeaderSize + 2));
    f.put('#');
  }
  ReplicaLog log = ReadReplica(dir.path(), "t", 0);
  ASSERT_EQ(log.problems.size(), 1u);
  EXPECT_NE(log.problems[0].find("CRC mismatch"), std::string::npos) << log.problems[0];
  ASSERT_EQ(log.records.size(), 1u);
  EXPECT_EQ(log.records[0].value, "a");
}

TEST(ReplicaLog, MalformedCheckpointIsAProblem) {
  TempDir dir;
  testing::WritePartition(dir.path(), "t", 0, Numbered(2));
  std::ofstream(dir.path() + "/replication-offset-checkpoint") << "0\n2\nt 0 1\n";
  ReplicaLog log = ReadReplica(dir.path(), "t", 0);
  EXPECT_FALSE(log.high_watermark.has_value());
  ASSERT_EQ(log.problems.size(), 1u);
  EXPECT_NE(log.problems[0].find("malformed checkpoint"), std::string::npos);
}

TEST(ReplicaLog, SkipsControlBatchesAndLeftoverFiles) {
  TempDir dir;
  TestBatch marker{1, {{"", ""}}};
  marker.control = true;
  testing::WriteSegment(dir.path(), "t", 0, 0, {TestBatch{0, {{"k", "a"}}}, marker, TestBatch{2, {{"k", "c"}}}});
  std::ofstream(testing::PartitionDir(dir.path(), "t", 0) + "/00000000000000000000.log.cleaned") << "junk";
  std::ofstream(testing::PartitionDir(dir.path(), "t", 0) + "/00000000000000000003.log.deleted") << "junk";
  ReplicaLog log = ReadReplica(dir.path(), "t", 0);
  EXPECT_TRUE(log.problems.empty()) << log.problems.front();
  ASSERT_EQ(log.records.size(), 2u);
  EXPECT_EQ(log.records[1].offset, 2);
  EXPECT_EQ(log.log_end_offset, 3);
}

TEST(ReplicaLog, ReadingChangesNothingOnDisk) {
  TempDir dir;
  testing::WritePartition(dir.path(), "t", 0, Numbered(10), 4, CompressionType::kZstd);
  testing::WriteHighWatermarks(dir.path(), {{{"t", 0}, 10}});
  auto torn = testing::EncodeBatch(TestBatch{10, {{"k", "torn"}}});
  torn.resize(20);
  testing::WriteSegment(dir.path(), "t", 0, 10, {}, torn);
  const auto before = Snapshot(dir.path());
  const auto mtime = std::filesystem::last_write_time(testing::PartitionDir(dir.path(), "t", 0));
  ReplicaLog log = ReadReplica(dir.path(), "t", 0);
  EXPECT_EQ(log.records.size(), 10u);
  EXPECT_EQ(log.torn_tail_bytes, 20);
  EXPECT_EQ(Snapshot(dir.path()), before);
  EXPECT_EQ(std::filesystem::last_write_time(testing::PartitionDir(dir.path(), "t", 0)), mtime);
}

}  // namespace
}  // namespace runnel::fault
