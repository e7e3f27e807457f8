// LogManager's per-partition API (replication): create_log / remove_log, sparse
// partitions, the replication-offset-checkpoint and caller-managed high watermarks.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "replication_util.h"
#include "storage/log_manager.h"

using namespace runnel;
using namespace runnel::storage;
using namespace runnel::testing;
namespace fs = std::filesystem;

namespace {

Uuid make_id(uint8_t seed) {
  Uuid id;
  for (size_t i = 0; i < id.bytes.size(); ++i) id.bytes[i] = static_cast<uint8_t>(seed + i);
  return id;
}

std::optional<CheckpointEntries> read_checkpoint(const std::string& path) {
  std::string text;
  if (read_whole_file(Env::posix(), path, text)) return std::nullopt;
  return parse_offset_checkpoint(text);
}

std::vector<std::string> delete_dirs(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().ends_with("-delete")) out.push_back(e.path().filename().string());
  return out;
}

}  // namespace

TEST(LogManagerPartitions, SparsePartitionsAcrossRestarts) {
  TempDir tmp;
  const std::string d1 = tmp.path() + "/d1", d2 = tmp.path() + "/d2";
  const Uuid id = make_id(1);
  {
    LogManager mgr;
    ASSERT_FALSE(mgr.open({d1, d2}, LogConfig{}));
    auto [e1, log1] = mgr.create_log("orders", 1, id, LogConfig{});
    ASSERT_EQ(e1, ErrorCode::kNone);
    ASSERT_TRUE(log1);
    auto [e4, log4] = mgr.create_log("orders", 4, id, LogConfig{});
    ASSERT_EQ(e4, ErrorCode::kNone);
    EXPECT_NE(mgr.log_dir_of("orders", 1), mgr.log_dir_of("orders", 4));  // least-loaded dirs
    EXPECT_FALSE(mgr.get("orders", 0));
    EXPECT_EQ(mgr.get("orders", 4), log4);
    EXPECT_EQ(mgr.topics()["orders"].partitions, 5);  // highest hosted + 1
    EXPECT_EQ(mgr.topics()["orders"].id, id);
    const auto hosted = mgr.partitions();
    ASSERT_EQ(hosted.size(), 2u);
    EXPECT_EQ(hosted[0].topic, "orders");
    EXPECT_EQ(hosted[0].partition, 1);
    EXPECT_EQ(hosted[0].topic_id, id);
    EXPECT_EQ(hosted[1].partition, 4);
    EXPECT_EQ(hosted[1].log_dir, mgr.log_dir_of("orders", 4));
    const std::string path = mgr.log_dir_of("orders", 1) + "/orders-1";
    std::string meta;
    ASSERT_FALSE(read_whole_file(Env::posix(), path + "/" + kPartitionMetadataFile, meta));
    EXPECT_EQ(parse_partition_metadata(meta), id);
    ASSERT_EQ(log1->append_as_follower(leader_batches(0, 2, 2, 3), 0).error, ErrorCode::kNone);
    // The whole-topic API sees the topic as existing, and deletes what is hosted.
    EXPECT_EQ(mgr.create_topic("orders", 8, id), ErrorCode::kTopicAlreadyExists);
    EXPECT_FALSE(mgr.shutdown());
  }
  LogManager mgr;
  ASSERT_FALSE(mgr.open({d1, d2}, LogConfig{}));
  ASSERT_EQ(mgr.partitions().size(), 2u);
  EXPECT_EQ(mgr.topics()["orders"].partitions, 5);
  EXPECT_EQ(mgr.get("orders", 1)->log_end_offset(), 4);
  EXPECT_EQ(mgr.get("orders", 1)->epoch_entries(), (std::vector<EpochEntry>{{3, 0}}));
  EXPECT_EQ(mgr.delete_topic("orders"), ErrorCode::kNone);
  EXPECT_TRUE(mgr.partitions().empty());
  EXPECT_TRUE(mgr.topics().empty());
  EXPECT_EQ(delete_dirs(d1).size() + delete_dirs(d2).size(), 2u);
}

TEST(LogManagerPartitions, CreateLogIsIdempotentAndChecksIds) {
  TempDir tmp;
  LogManager mgr;
  ASSERT_FALSE(mgr.open({tmp.path() + "/d"}, LogConfig{}));
  auto [e, log] = mgr.create_log("t", 2, make_id(1), LogConfig{});
  ASSERT_EQ(e, ErrorCode::kNone);
  auto again = mgr.create_log("t", 2, make_id(1), LogConfig{});
  EXPECT_EQ(again.first, ErrorCode::kNone);
  EXPECT_EQ(again.second, log);  // the same log, not a new one
  EXPECT_EQ(mgr.create_log("t", 2, make_id(2), LogConfig{}).first, ErrorCode::kInconsistentTopicId);
  EXPECT_EQ(mgr.create_log("t", 3, make_id(2), LogConfig{}).first, ErrorCode::kInconsistentTopicId);
  EXPECT_EQ(mgr.create_log("t", 3, Uuid{}, LogConfig{}).first, ErrorCode::kUnknownTopicId);
  EXPECT_EQ(mgr.create_log("t", -1, make_id(1), LogConfig{}).first, ErrorCode::kInvalidPartitions);
  EXPECT_EQ(mgr.create_log("bad name", 0, make_id(1), LogConfig{}).first, ErrorCode::kInvalidTopicException);
  EXPECT_EQ(mgr.create_log("a.b", 0, make_id(3), LogConfig{}).first, ErrorCode::kNone);
  EXPECT_EQ(mgr.create_log("a_b", 0, make_id(4), LogConfig{}).first, ErrorCode::kInvalidTopicException);
  EXPECT_FALSE(mgr.get("t", 3));
  EXPECT_EQ(mgr.partitions().size(), 2u);
}

TEST(LogManagerPartitions, CreateLogRefusesAForeignDirOnDisk) {
  TempDir tmp;
  const std::string d = tmp.path() + "/d";
  LogManager mgr;
  ASSERT_FALSE(mgr.open({d}, LogConfig{}));
  // A partition dir that appeared after open() (not loaded), holding another topic id.
  fs::create_directories(d + "/t-0");
  ASSERT_FALSE(write_file_atomically(Env::posix(), d + "/t-0/" + kPartitionMetadataFile, format_partition_metadata(make_id(9))));
  EXPECT_EQ(mgr.create_log("t", 0, make_id(1), LogConfig{}).first, ErrorCode::kInconsistentTopicId);
  EXPECT_EQ(mgr.create_log("t", 0, make_id(9), LogConfig{}).first, ErrorCode::kNone);  // same id: adopted
}

TEST(LogManagerPartitions, RemoveLog) {
  TempDir tmp;
  const std::string d = tmp.path() + "/d";
  LogManager mgr;
  ASSERT_FALSE(mgr.open({d}, LogConfig{}));
  const Uuid id = make_id(5);
  auto [e1, log1] = mgr.create_log("t", 1, id, LogConfig{});
  auto [e3, log3] = mgr.create_log("t", 3, id, LogConfig{});
  ASSERT_EQ(log3->append_as_follower(leader_batches(0, 1, 2, 0), 0).error, ErrorCode::kNone);
  const auto held = log3->read_slices(0, 1 << 20, INT64_MAX, true);  // a reader in flight

  EXPECT_EQ(mgr.remove_log("t", 3), ErrorCode::kNone);
  EXPECT_FALSE(mgr.get("t", 3));
  EXPECT_FALSE(fs::exists(d + "/t-3"));
  EXPECT_EQ(delete_dirs(d), (std::vector<std::string>{"t-3." + id.to_base64() + "-delete"}));
  EXPECT_EQ(mgr.topics()["t"].partitions, 2);  // partition 1 is the highest left
  EXPECT_EQ(log3->append_as_follower(leader_batches(2, 1, 2, 0), 0).error, ErrorCode::kKafkaStorageError);
  // The reader's slices stay readable after the dir was renamed.
  ASSERT_EQ(held.slices.size(), 1u);
  std::vector<uint8_t> buf(static_cast<size_t>(held.slices[0].length));
  EXPECT_EQ(::pread(held.slices[0].fd, buf.data(), buf.size(), held.slices[0].position), static_cast<ssize_t>(buf.size()));
  EXPECT_EQ(mgr.remove_log("t", 3), ErrorCode::kUnknownTopicOrPartition);
  EXPECT_EQ(mgr.remove_log("nope", 0), ErrorCode::kUnknownTopicOrPartition);

  // The same partition again (a reassignment back), removed again before the files went.
  ASSERT_EQ(mgr.create_log("t", 3, id, LogConfig{}).first, ErrorCode::kNone);
  EXPECT_EQ(mgr.get("t", 3)->log_end_offset(), 0);  // a fresh log
  EXPECT_EQ(mgr.remove_log("t", 3), ErrorCode::kNone);
  EXPECT_EQ(delete_dirs(d).size(), 2u);
  EXPECT_EQ(mgr.remove_log("t", 1), ErrorCode::kNone);
  EXPECT_TRUE(mgr.topics().empty());  // nothing of the topic is hosted any more
  EXPECT_EQ(mgr.remove_deleted_dirs(), 3u);
  EXPECT_TRUE(delete_dirs(d).empty());
  EXPECT_FALSE(mgr.shutdown());
  // Nothing comes back.
  LogManager again;
  ASSERT_FALSE(again.open({d}, LogConfig{}));
  EXPECT_TRUE(again.partitions().empty());
}

TEST(LogManagerPartitions, ReplicationOffsetCheckpointRoundTrip) {
  TempDir tmp;
  const std::string d = tmp.path() + "/d";
  const Uuid id = make_id(7);
  {
    LogManager mgr;
    mgr.set_hw_follows_flush(false);
    ASSERT_FALSE(mgr.open({d}, LogConfig{}));
    auto [e, log] = mgr.create_log("t", 0, id, LogConfig{});
    ASSERT_EQ(e, ErrorCode::kNone);
    EXPECT_FALSE(log->hw_follows_flush());
    ASSERT_EQ(log->append_as_follower(leader_batches(0, 4, 2, 1), 0).error, ErrorCode::kNone);  // 0..7
    log->flush();
    log->set_high_watermark(5);
    ASSERT_FALSE(mgr.write_checkpoints());
    const auto hw = read_checkpoint(d + "/" + kReplicationOffsetCheckpointFile);
    ASSERT_TRUE(hw.has_value());
    EXPECT_EQ(*hw, (CheckpointEntries{{{"t", 0}, 5}}));
    // The recovery point is what is fsynced, not the HW.
    const auto recovery = read_checkpoint(d + "/" + kRecoveryPointCheckpointFile);
    EXPECT_EQ(*recovery, (CheckpointEntries{{{"t", 0}, 8}}));
    // no shutdown: an unclean restart
  }
  LogManager mgr;
  mgr.set_hw_follows_flush(false);
  ASSERT_FALSE(mgr.open({d}, LogConfig{}));
  auto log = mgr.get("t", 0);
  ASSERT_TRUE(log);
  EXPECT_FALSE(log->hw_follows_flush());
  EXPECT_EQ(log->high_watermark(), 5);
  EXPECT_EQ(log->log_end_offset(), 8);
  // Created logs take the mode too.
  auto [e, other] = mgr.create_log("t", 1, id, LogConfig{});
  ASSERT_EQ(e, ErrorCode::kNone);
  EXPECT_FALSE(other->hw_follows_flush());
  EXPECT_FALSE(mgr.shutdown());
}

TEST(LogManagerPartitions, RecoveryPointIsTheDurableOffsetInEitherMode) {
  TempDir tmp;
  const std::string d = tmp.path() + "/d";
  LogManager mgr;
  ASSERT_FALSE(mgr.open({d}, LogConfig{}));
  ASSERT_EQ(mgr.create_topic("t", 1, make_id(1)), ErrorCode::kNone);
  auto log = mgr.get("t", 0);
  EXPECT_TRUE(log->hw_follows_flush());
  ASSERT_EQ(log->append_as_follower(leader_batches(0, 2, 2, 1), 0).error, ErrorCode::kNone);
  ASSERT_FALSE(mgr.write_checkpoints());  // nothing flushed yet
  EXPECT_EQ(*read_checkpoint(d + "/" + kRecoveryPointCheckpointFile), (CheckpointEntries{{{"t", 0}, 0}}));
  EXPECT_EQ(*read_checkpoint(d + "/" + kReplicationOffsetCheckpointFile), (CheckpointEntries{{{"t", 0}, 0}}));
  log->flush();
  ASSERT_FALSE(mgr.write_checkpoints());
  EXPECT_EQ(*read_checkpoint(d + "/" + kRecoveryPointCheckpointFile), (CheckpointEntries{{{"t", 0}, 4}}));
  EXPECT_EQ(*read_checkpoint(d + "/" + kReplicationOffsetCheckpointFile), (CheckpointEntries{{{"t", 0}, 4}}));
}

TEST(LogManagerPartitions, RefusedAfterShutdown) {
  TempDir tmp;
  LogManager mgr;
  ASSERT_FALSE(mgr.open({tmp.path() + "/d"}, LogConfig{}));
  EXPECT_FALSE(mgr.shutdown());
  EXPECT_EQ(mgr.create_log("t", 0, make_id(1), LogConfig{}).first, ErrorCode::kKafkaStorageError);
  LogManager unopened;
  EXPECT_EQ(unopened.create_log("t", 0, make_id(1), LogConfig{}).first, ErrorCode::kKafkaStorageError);
}
