#include "storage/log_manager.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "batch_builder.h"
#include "storage/topic_name.h"
#include "test_util.h"

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
}  // namespace

TEST(TopicName, KafkaRules) {
  EXPECT_TRUE(is_valid_topic_name("orders.v1_x-y"));
  EXPECT_FALSE(is_valid_topic_name(""));
  EXPECT_FALSE(is_valid_topic_name("."));
  EXPECT_FALSE(is_valid_topic_name(".."));
  EXPECT_FALSE(is_valid_topic_name("a b"));
  EXPECT_FALSE(is_valid_topic_name("a/b"));
  EXPECT_TRUE(is_valid_topic_name(std::string(249, 'a')));
  EXPECT_FALSE(is_valid_topic_name(std::string(250, 'a')));
  EXPECT_TRUE(topic_names_collide("a.b", "a_b"));
  EXPECT_FALSE(topic_names_collide("a.b", "a-b"));
}

TEST(Checkpoint, RoundTripsKafkaFormat) {
  CheckpointEntries e{{{"orders", 0}, 42}, {{"orders", 1}, 7}, {{"x-y", 12}, 0}};
  auto text = format_offset_checkpoint(e);
  EXPECT_EQ(text, "0\n3\norders 0 42\norders 1 7\nx-y 12 0\n");
  EXPECT_EQ(parse_offset_checkpoint(text), e);
  EXPECT_FALSE(parse_offset_checkpoint("1\n0\n").has_value());
  EXPECT_FALSE(parse_offset_checkpoint("0\n2\na 0 1\n").has_value());
  EXPECT_FALSE(parse_offset_checkpoint("0\n1\na zero 1\n").has_value());
}

TEST(Checkpoint, PartitionMetadataAndDirNames) {
  auto id = make_id(3);
  auto text = format_partition_metadata(id);
  EXPECT_EQ(text.rfind("version: 0\ntopic_id: ", 0), 0u);
  EXPECT_EQ(parse_partition_metadata(text), id);
  EXPECT_EQ(parse_partition_dir_name("my-topic-12"), std::make_optional(std::make_pair(std::string("my-topic"), 12)));
  EXPECT_FALSE(parse_partition_dir_name("topic-0.0a1b2c-delete").has_value());
  EXPECT_FALSE(parse_partition_dir_name("nodash").has_value());
  EXPECT_FALSE(parse_partition_dir_name("t-x").has_value());
}

TEST(LogManager, CreateAppendShutdownReopen) {
  TempDir tmp;
  const std::string d1 = tmp.path() + "/d1", d2 = tmp.path() + "/d2";
  const Uuid id = make_id(1);
  {
    LogManager mgr;
    ASSERT_FALSE(mgr.open({d1, d2}, LogConfig{}));
    EXPECT_EQ(mgr.create_topic("orders", 4, id), ErrorCode::kNone);
    EXPECT_EQ(mgr.create_topic("orders", 1, make_id(9)), ErrorCode::kTopicAlreadyExists);
    EXPECT_EQ(mgr.create_topic("bad name", 1, make_id(9)), ErrorCode::kInvalidTopicException);
    EXPECT_EQ(mgr.create_topic("ord_ers", 1, make_id(9)), ErrorCode::kNone);
    EXPECT_EQ(mgr.create_topic("ord.ers", 1, make_id(9)), ErrorCode::kInvalidTopicException);
    EXPECT_EQ(mgr.create_topic("zero", 0, make_id(9)), ErrorCode::kInvalidPartitions);
    // Partitions spread over both dirs.
    EXPECT_TRUE(fs::exists(d1 + "/orders-0") != fs::exists(d2 + "/orders-0"));
    EXPECT_TRUE(fs::exists(d1 + "/orders-1") || fs::exists(d2 + "/orders-1"));
    auto log = mgr.get("orders", 2);
    ASSERT_TRUE(log);
    EXPECT_FALSE(mgr.get("orders", 4));
    auto b = build_batch(5);
    EXPECT_EQ(log->append(b, 0, 0).last_offset, 4);
    EXPECT_EQ(mgr.topic_by_id(id), std::optional<std::string>("orders"));
    EXPECT_FALSE(mgr.shutdown());
  }
  EXPECT_TRUE(fs::exists(d1 + "/" + kCleanShutdownFile));
  std::string text;
  ASSERT_FALSE(read_whole_file(Env::posix(), d1 + "/" + kRecoveryPointCheckpointFile, text));
  auto cp = parse_offset_checkpoint(text);
  ASSERT_TRUE(cp.has_value());
  std::string text2;
  ASSERT_FALSE(read_whole_file(Env::posix(), d2 + "/" + kRecoveryPointCheckpointFile, text2));
  auto cp2 = parse_offset_checkpoint(text2);
  ASSERT_TRUE(cp2.has_value());
  EXPECT_EQ(cp->size() + cp2->size(), 5u);
  auto key = std::make_pair(std::string("orders"), 2);
  EXPECT_EQ(cp->count(key) ? cp->at(key) : cp2->at(key), 5);

  LogManager mgr;
  ASSERT_FALSE(mgr.open({d1, d2}, LogConfig{}));
  EXPECT_FALSE(fs::exists(d1 + "/" + kCleanShutdownFile));  // removed once read
  auto topics = mgr.topics();
  ASSERT_EQ(topics.size(), 2u);
  EXPECT_EQ(topics["orders"].partitions, 4);
  EXPECT_EQ(topics["orders"].id, id);
  auto log = mgr.get("orders", 2);
  ASSERT_TRUE(log);
  EXPECT_EQ(log->log_end_offset(), 5);
  EXPECT_EQ(log->high_watermark(), 5);
  auto b = build_batch(1);
  EXPECT_EQ(log->append(b, 0, 0).base_offset, 5);
}

TEST(LogManager, UncleanRestartRecovers) {
  TempDir tmp;
  const std::string d = tmp.path() + "/d";
  {
    LogManager mgr;
    ASSERT_FALSE(mgr.open({d}, LogConfig{}));
    ASSERT_EQ(mgr.create_topic("t", 1, make_id(2)), ErrorCode::kNone);
    auto b = build_batch(3);
    mgr.get("t", 0)->append(b, 0, 0);
    // no shutdown(): crash
  }
  EXPECT_FALSE(fs::exists(d + "/" + kCleanShutdownFile));
  LogManager mgr;
  ASSERT_FALSE(mgr.open({d}, LogConfig{}));
  EXPECT_EQ(mgr.get("t", 0)->log_end_offset(), 3);
  EXPECT_EQ(mgr.topics()["t"].id, make_id(2));
}
