// Committed offsets: durability before acknowledgement, simple (assign())
// commits, generation checks, metadata limits, OffsetDelete, DeleteGroups and
// retention.
#include <gtest/gtest.h>

#include "coordinator/group_records.h"
#include "coordinator_fixture.h"

namespace runnel::coordinator::testing {
namespace {

OffsetCommitEntry entry(const std::string& topic, int32_t partition, int64_t offset,
                        std::optional<std::string> metadata = std::nullopt) {
  return OffsetCommitEntry{{topic, partition}, offset, 3, std::move(metadata), -1};
}

TEST_F(CoordinatorTest, SimpleCommitIsAcknowledgedOnlyOnceDurableAndCreatesAnEmptyGroup) {
  auto c = commit("simple", "", -1, {entry("t", 0, 42, "hello"), entry("t", 1, 7)});
  EXPECT_FALSE(c.done());
  EXPECT_EQ(group("simple").state(), GroupState::kEmpty);
  // Not visible before it is durable; a stable read says it is in flight.
  auto before = coordinator->fetch_offsets("simple", std::vector<TopicPartition>{{"t", 0}}, false);
  EXPECT_EQ(before.offsets[0].offset, -1);
  auto stable_read = coordinator->fetch_offsets("simple", std::vector<TopicPartition>{{"t", 0}}, true);
  EXPECT_EQ(stable_read.offsets[0].error, ErrorCode::kUnstableOffsetCommit);

  EXPECT_EQ(store.complete_all(), 1u) << "one batch for the whole commit";
  ASSERT_TRUE(c.done());
  EXPECT_EQ(*c, (std::vector<ErrorCode>{ErrorCode::kNone, ErrorCode::kNone}));
  auto after = coordinator->fetch_offsets("simple", std::nullopt, true);
  ASSERT_EQ(after.offsets.size(), 2u);
  EXPECT_EQ(after.offsets[0].offset, 42);
  EXPECT_EQ(after.offsets[0].leader_epoch, 3);
  EXPECT_EQ(after.offsets[0].metadata, "hello");
  EXPECT_EQ(after.offsets[1].offset, 7);
  EXPECT_EQ(after.offsets[1].metadata, "") << "a null metadata is stored as empty, as Kafka does";

  const auto& write = store.written().back();
  EXPECT_EQ(write.partition, coordinator->partition_for("simple"));
  ASSERT_EQ(write.records.size(), 2u);
  const auto key = std::get<OffsetCommitKey>(decode_record_key(write.records[0].key));
  EXPECT_EQ(key.group, "simple");
  EXPECT_EQ(key.topic, "t");
  EXPECT_EQ(decode_offset_commit_value(*write.records[0].value).commit_timestamp, timers.now);
}

TEST_F(CoordinatorTest, FailedCommitWriteIsReportedAndNotApplied) {
  auto c = commit("simple", "", -1, {entry("t", 0, 42)});
  store.complete_all(ErrorCode::kKafkaStorageError);
  EXPECT_EQ((*c)[0], ErrorCode::kCoordinatorNotAvailable);
  EXPECT_EQ(coordinator->fetch_offsets("simple", std::nullopt, false).offsets.size(), 0u);
  auto too_big = commit("simple", "", -1, {entry("t", 0, 42)});
  store.complete_all(ErrorCode::kMessageTooLarge);
  EXPECT_EQ((*too_big)[0], ErrorCode::kInvalidCommitOffsetSize);
}

TEST_F(CoordinatorTest, OversizedMetadataIsRejectedPerPartition) {
  auto c = commit("g", "", -1, {entry("t", 0, 1, std::string(4097, 'x')), entry("t", 1, 2, std::string(4096, 'x'))});
  store.complete_all();
  ASSERT_TRUE(c.done());
  EXPECT_EQ(*c, (std::vector<ErrorCode>{ErrorCode::kOffsetMetadataTooLarge, ErrorCode::kNone}));
  auto all_bad = commit("g", "", -1, {entry("t", 0, 1, std::string(5000, 'x'))});
  ASSERT_TRUE(all_bad.done()) << "nothing to write: answered at once";
  EXPECT_EQ((*all_bad)[0], ErrorCode::kOffsetMetadataTooLarge);
}

TEST_F(CoordinatorTest, MemberCommitsAreCheckedAgainstTheGeneration) {
  auto ids = stable_group("g", 2);
  auto ok = commit("g", ids[0], 1, {entry("t", 0, 10)});
  auto wrong_generation = commit("g", ids[0], 2, {entry("t", 0, 11)});
  auto unknown_member = commit("g", "stranger", 1, {entry("t", 0, 12)});
  auto simple_on_live_group = commit("g", "", -1, {entry("t", 0, 13)});
  auto unknown_group = commit("nope", "m", 3, {entry("t", 0, 14)});
  store.complete_all();
  EXPECT_EQ((*ok)[0], ErrorCode::kNone);
  EXPECT_EQ((*wrong_generation)[0], ErrorCode::kIllegalGeneration);
  EXPECT_EQ((*unknown_member)[0], ErrorCode::kUnknownMemberId);
  EXPECT_EQ((*simple_on_live_group)[0], ErrorCode::kUnknownMemberId);
  EXPECT_EQ((*unknown_group)[0], ErrorCode::kIllegalGeneration);
  EXPECT_EQ(coordinator->group("nope"), nullptr);
  EXPECT_EQ(coordinator->fetch_offsets("g", std::nullopt, false).offsets[0].offset, 10);

  // During PreparingRebalance commits are still accepted; during
  // CompletingRebalance they are refused with REBALANCE_IN_PROGRESS.
  auto newcomer = join(params("g", ""));
  auto preparing = commit("g", ids[1], 1, {entry("t", 0, 20)});
  store.complete_all();
  EXPECT_EQ((*preparing)[0], ErrorCode::kNone);
  auto j0 = join(params("g", ids[0]));
  auto j1 = join(params("g", ids[1]));
  ASSERT_TRUE(j0.done());
  EXPECT_EQ(group("g").state(), GroupState::kCompletingRebalance);
  auto completing = commit("g", ids[1], 2, {entry("t", 0, 21)});
  EXPECT_EQ((*completing)[0], ErrorCode::kRebalanceInProgress);
}

TEST_F(CoordinatorTest, FetchForUnknownGroupsAndPartitions) {
  auto none = coordinator->fetch_offsets("nope", std::vector<TopicPartition>{{"t", 0}, {"t", 1}}, false);
  EXPECT_EQ(none.error, ErrorCode::kNone);
  ASSERT_EQ(none.offsets.size(), 2u);
  EXPECT_EQ(none.offsets[1].offset, -1);
  EXPECT_TRUE(coordinator->fetch_offsets("nope", std::nullopt, false).offsets.empty());
  // Commits (and fetches) are allowed for the empty group id, for compatibility.
  auto c = commit("", "", -1, {entry("t", 0, 5)});
  store.complete_all();
  EXPECT_EQ((*c)[0], ErrorCode::kNone);
  EXPECT_EQ(coordinator->fetch_offsets("", std::nullopt, false).offsets[0].offset, 5);
}

TEST_F(CoordinatorTest, DeleteGroupsOnlyDeletesEmptyGroupsAndWritesTombstones) {
  stable_group("live", 1);
  auto c = commit("idle", "", -1, {entry("t", 0, 5), entry("u", 1, 6)});
  store.complete_all();
  Capture<std::vector<ErrorCode>> deleted;
  coordinator->delete_groups({"idle", "live", "missing"}, deleted.callback());
  EXPECT_FALSE(deleted.done()) << "answered once the tombstones are durable";
  store.complete_all();
  ASSERT_TRUE(deleted.done());
  EXPECT_EQ(*deleted,
            (std::vector<ErrorCode>{ErrorCode::kNone, ErrorCode::kNonEmptyGroup, ErrorCode::kGroupIdNotFound}));
  EXPECT_EQ(coordinator->group("idle"), nullptr);
  EXPECT_TRUE(coordinator->fetch_offsets("idle", std::nullopt, false).offsets.empty());
  const auto& tombstones = store.written().back().records;
  ASSERT_EQ(tombstones.size(), 3u);  // two offsets and the group itself
  for (const auto& r : tombstones) EXPECT_FALSE(r.value.has_value());
  EXPECT_TRUE(std::holds_alternative<GroupMetadataKey>(decode_record_key(tombstones.back().key)));
}

TEST_F(CoordinatorTest, OffsetDeleteRefusesTopicsTheGroupConsumes) {
  auto p = params("g", "", {{"range", subscription({"consumed"})}});
  auto j = join(p);
  timers.advance(0);
  ASSERT_TRUE(j.done());
  auto s = sync("g", j->member_id, 1, {{j->member_id, {}}});
  store.complete_all();
  auto c = commit("g", j->member_id, 1, {entry("consumed", 0, 1), entry("old", 0, 2)});
  store.complete_all();
  Capture<OffsetDeleteResult> r;
  coordinator->delete_offsets("g", {{"consumed", 0}, {"old", 0}}, r.callback());
  store.complete_all();
  ASSERT_TRUE(r.done());
  EXPECT_EQ(r->error, ErrorCode::kNone);
  EXPECT_EQ(r->partitions, (std::vector<ErrorCode>{ErrorCode::kGroupSubscribedToTopic, ErrorCode::kNone}));
  auto left = coordinator->fetch_offsets("g", std::nullopt, false);
  ASSERT_EQ(left.offsets.size(), 1u);
  EXPECT_EQ(left.offsets[0].partition.topic, "consumed");

  Capture<OffsetDeleteResult> missing;
  coordinator->delete_offsets("missing", {{"t", 0}}, missing.callback());
  EXPECT_EQ(missing->error, ErrorCode::kGroupIdNotFound);
  Capture<OffsetDeleteResult> invalid;
  coordinator->delete_offsets("", {{"t", 0}}, invalid.callback());
  EXPECT_EQ(invalid->error, ErrorCode::kInvalidGroupId);
}

TEST_F(CoordinatorTest, DeletingTheLastOffsetsOfAnEmptyGroupRemovesIt) {
  auto c = commit("idle", "", -1, {entry("t", 0, 5)});
  store.complete_all();
  Capture<OffsetDeleteResult> r;
  coordinator->delete_offsets("idle", {{"t", 0}}, r.callback());
  store.complete_all();
  EXPECT_EQ(r->partitions, std::vector<ErrorCode>{ErrorCode::kNone});
  EXPECT_EQ(coordinator->group("idle"), nullptr);
}

TEST_F(CoordinatorTest, RetentionExpiresOffsetsOfEmptyGroupsAndUnsubscribedTopics) {
  config.offsets_retention_ms = 60'000;
  config.retention_check_interval_ms = 10'000;
  restart();
  coordinator->start();
  auto simple = commit("simple", "", -1, {entry("t", 0, 1)});
  auto p = params("live", "", {{"range", subscription({"consumed"})}});
  auto j = join(p);
  timers.advance(0);
  auto s = sync("live", j->member_id, 1, {{j->member_id, {}}});
  store.complete_all();
  auto c = commit("live", j->member_id, 1, {entry("consumed", 0, 1), entry("dropped", 0, 2)});
  store.complete_all();
  for (int i = 0; i < 10; ++i) {  // the live member keeps heartbeating for 50 s
    timers.advance(5'000);
    EXPECT_EQ(coordinator->heartbeat("live", j->member_id, std::nullopt, 1), ErrorCode::kNone);
  }
  store.complete_all();
  EXPECT_NE(coordinator->group("simple"), nullptr) << "not yet";
  for (int i = 0; i < 4; ++i) {
    timers.advance(5'000);
    EXPECT_EQ(coordinator->heartbeat("live", j->member_id, std::nullopt, 1), ErrorCode::kNone);
  }
  store.complete_all();
  EXPECT_EQ(coordinator->group("simple"), nullptr) << "its only offset expired, so the empty group went too";
  auto live = coordinator->fetch_offsets("live", std::nullopt, false);
  ASSERT_EQ(live.offsets.size(), 1u) << "the topic the group still consumes keeps its offset";
  EXPECT_EQ(live.offsets[0].partition.topic, "consumed");
  bool tombstone_seen = false;
  for (const auto& w : store.written()) {
    for (const auto& r : w.records) tombstone_seen |= !r.value.has_value();
  }
  EXPECT_TRUE(tombstone_seen);
}

TEST_F(CoordinatorTest, RetentionOfAnEmptyConsumerGroupCountsFromWhenItBecameEmpty) {
  config.offsets_retention_ms = 60'000;
  restart();
  auto ids = stable_group("g", 1);
  auto c = commit("g", ids[0], 1, {entry("t", 0, 1)});
  store.complete_all();
  for (int i = 0; i < 10; ++i) {  // the commit gets old, but the group is still active
    timers.advance(5'000);
    EXPECT_EQ(coordinator->heartbeat("g", ids[0], std::nullopt, 1), ErrorCode::kNone);
  }
  coordinator->leave_group("g", {{ids[0], std::nullopt, std::nullopt}});
  store.complete_all();
  ASSERT_EQ(group("g").state(), GroupState::kEmpty);
  timers.advance(59'000);
  coordinator->expire_offsets();
  store.complete_all();
  EXPECT_NE(coordinator->group("g"), nullptr);
  timers.advance(1'000);
  coordinator->expire_offsets();
  store.complete_all();
  EXPECT_EQ(coordinator->group("g"), nullptr);
}

}  // namespace
}  // namespace runnel::coordinator::testing
