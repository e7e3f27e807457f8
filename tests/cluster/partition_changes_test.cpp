// The controller's partition rules (cluster/partition_changes) as pure
// functions: elections, ISR changes and reassignments, including a move
// started or cancelled while another is in progress.
#include "cluster/partition_changes.h"

#include <gtest/gtest.h>

#include <set>

namespace runnel::cluster {
namespace {

using Ids = std::vector<int32_t>;

BrokerLiveness Alive(std::set<int32_t> alive, std::set<int32_t> shutting_down = {}) {
  BrokerLiveness b;
  b.alive = [alive](int32_t id) { return alive.count(id) > 0; };
  b.shutting_down = [shutting_down](int32_t id) { return shutting_down.count(id) > 0; };
  b.epoch = [alive](int32_t id) { return alive.count(id) ? int64_t{100 + id} : int64_t{0}; };
  return b;
}

PartitionState Stable(Ids replicas, Ids isr, int32_t leader) {
  PartitionState s;
  s.replicas = std::move(replicas);
  s.isr = std::move(isr);
  s.leader = leader;
  s.leader_epoch = 5;
  s.partition_epoch = 7;
  s.leader_broker_epoch = 100 + leader;
  return s;
}

const auto kAll = Alive({1, 2, 3, 4, 5, 6, 7, 8, 9});

TEST(PartitionChanges, ADeadLeaderIsReplacedFromTheIsrAtANewLeaderEpoch) {
  auto next = reconcile_partition(Stable({1, 2, 3}, {1, 2, 3}, 1), Alive({2, 3}), false);
  ASSERT_TRUE(next);
  EXPECT_EQ(next->leader, 2);
  EXPECT_EQ(next->leader_epoch, 6);
  EXPECT_EQ(next->partition_epoch, 8);
  EXPECT_EQ(next->isr, (Ids{2, 3}));
}

TEST(PartitionChanges, NoUncleanLeaderUnlessAllowed) {
  const auto state = Stable({1, 2, 3}, {1}, 1);
  auto next = reconcile_partition(state, Alive({2, 3}), false);
  ASSERT_TRUE(next);  // the leader goes offline, the last ISR member stays
  EXPECT_EQ(next->leader, -1);
  EXPECT_EQ(next->isr, (Ids{1}));
  auto unclean = reconcile_partition(state, Alive({2, 3}), true);
  ASSERT_TRUE(unclean);
  EXPECT_EQ(unclean->leader, 2);
  EXPECT_EQ(unclean->isr, (Ids{2}));
}

TEST(PartitionChanges, AMoveKeepsTheOldReplicasUntilTheNewOnesAreInSync) {
  const auto state = Stable({1, 2, 3}, {1, 2, 3}, 1);
  ErrorCode error = ErrorCode::kNone;
  auto moving = start_reassignment(state, {4, 2, 3}, kAll, &error);
  ASSERT_TRUE(moving) << error_name(error);
  EXPECT_EQ(moving->replicas, (Ids{4, 2, 3, 1}));
  EXPECT_EQ(moving->adding_replicas, (Ids{4}));
  EXPECT_EQ(moving->removing_replicas, (Ids{1}));
  EXPECT_EQ(moving->leader, 1);
  EXPECT_FALSE(complete_reassignment(*moving, kAll));  // 4 not in sync yet

  PartitionState caught_up = *moving;
  caught_up.isr = {1, 2, 3, 4};
  auto done = complete_reassignment(caught_up, kAll);
  ASSERT_TRUE(done);
  EXPECT_EQ(done->replicas, (Ids{4, 2, 3}));
  EXPECT_TRUE(done->adding_replicas.empty());
  EXPECT_TRUE(done->removing_replicas.empty());
  EXPECT_EQ(done->isr, (Ids{2, 3, 4}));
  EXPECT_NE(done->leader, 1);  // the old leader left: someone of the new set leads
  EXPECT_GT(done->leader_epoch, caught_up.leader_epoch);
}

TEST(PartitionChanges, ANewMoveDuringAMoveKeepsTheLeaderAndTheIsr) {
  auto first = start_reassignment(Stable({1, 2, 3}, {1, 2, 3}, 1), {4, 5, 6}, kAll, nullptr);
  ASSERT_TRUE(first);
  ErrorCode error = ErrorCode::kNone;
  auto second = start_reassignment(*first, {7, 8, 9}, kAll, &error);
  ASSERT_TRUE(second) << error_name(error);
  // 4, 5, 6 never caught up and are not original: dropped. 1, 2, 3 stay until 7, 8, 9 are in sync.
  EXPECT_EQ(second->replicas, (Ids{7, 8, 9, 1, 2, 3}));
  EXPECT_EQ(second->adding_replicas, (Ids{7, 8, 9}));
  EXPECT_EQ(second->removing_replicas, (Ids{1, 2, 3}));
  EXPECT_EQ(second->isr, (Ids{1, 2, 3}));
  EXPECT_EQ(second->leader, 1);
}

TEST(PartitionChanges, AReplicaThatJoinedTheIsrDuringAMoveIsKeptWhenTheMoveChanges) {
  PartitionState state = *start_reassignment(Stable({1, 2, 3}, {1, 2, 3}, 1), {4, 5, 6}, kAll, nullptr);
  state.isr = {1, 2, 4};
  state.leader = 4;  // a failover during the move elected a new replica
  auto next = start_reassignment(state, {7, 8, 9}, kAll, nullptr);
  ASSERT_TRUE(next);
  EXPECT_EQ(next->replicas, (Ids{7, 8, 9, 4, 1, 2, 3}));
  EXPECT_EQ(next->removing_replicas, (Ids{4, 1, 2, 3}));
  EXPECT_EQ(next->isr, (Ids{1, 2, 4}));
  EXPECT_EQ(next->leader, 4);
}

TEST(PartitionChanges, CancellingWhileANewReplicaLeadsElectsAnOriginalOne) {
  PartitionState state = *start_reassignment(Stable({1, 2, 3}, {1, 2, 3}, 1), {4, 5, 6}, kAll, nullptr);
  state.isr = {1, 2, 4};
  state.leader = 4;
  ErrorCode error = ErrorCode::kNone;
  auto cancelled = start_reassignment(state, {}, kAll, &error);
  ASSERT_TRUE(cancelled) << error_name(error);
  EXPECT_EQ(cancelled->replicas, (Ids{1, 2, 3}));
  EXPECT_TRUE(cancelled->adding_replicas.empty());
  EXPECT_TRUE(cancelled->removing_replicas.empty());
  EXPECT_EQ(cancelled->isr, (Ids{1, 2}));
  EXPECT_EQ(cancelled->leader, 1);
  EXPECT_GT(cancelled->leader_epoch, state.leader_epoch);
}

TEST(PartitionChanges, BadMovesAreRefused) {
  const auto state = Stable({1, 2, 3}, {1, 2, 3}, 1);
  ErrorCode error = ErrorCode::kNone;
  EXPECT_FALSE(start_reassignment(state, {1, 1, 2}, kAll, &error));
  EXPECT_EQ(error, ErrorCode::kInvalidReplicaAssignment);
  EXPECT_FALSE(start_reassignment(state, {1, 2, 42}, kAll, &error));  // 42 is not a live broker
  EXPECT_EQ(error, ErrorCode::kInvalidReplicaAssignment);
  EXPECT_FALSE(start_reassignment(state, {}, kAll, &error));  // nothing to cancel
  EXPECT_EQ(error, ErrorCode::kNoReassignmentInProgress);
  EXPECT_FALSE(start_reassignment(state, {1, 2, 3}, kAll, &error));  // already there
  EXPECT_EQ(error, ErrorCode::kNone);
}

}  // namespace
}  // namespace runnel::cluster
