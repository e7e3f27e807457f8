// Coordinating some __consumer_offsets partitions, not all: loading one from its
// log, unloading it when leadership moves, and the answers for groups of
// partitions that are not (or not yet) loaded.
#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>

#include "coordinator_fixture.h"

namespace runnel::coordinator::testing {
namespace {

using E = ErrorCode;

class PartitionLoadTest : public CoordinatorTest {
 protected:
  static constexpr int32_t kA = 2;
  static constexpr int32_t kB = 5;

  // Two of the store's eight partitions are ours; the rest belong to other brokers.
  void SetUp() override {
    coordinator = std::make_unique<GroupCoordinator>(config, timers, store);
    load(kA);
    load(kB);
  }

  // The nth group id that lives in `partition`.
  std::string group_in(int32_t partition, int nth = 0) {
    for (int i = 0; i < 100000; ++i) {
      std::string id = "group-" + std::to_string(i);
      if (coordinator->partition_for(id) == partition && nth-- == 0) return id;
    }
    ADD_FAILURE() << "no group id for partition " << partition;
    return {};
  }

  // Replays what the fake store has durably written to the partition: its log.
  GroupCoordinator::PartitionReplay log_of(int32_t partition) {
    return [this, partition](const std::function<void(const LogRecord&)>& feed) {
      for (const auto& write : store.written()) {
        if (write.partition != partition) continue;
        for (const auto& record : write.records) feed(record);
      }
    };
  }
  void load(int32_t partition) { coordinator->load_partition(partition, log_of(partition)); }

  static OffsetCommitEntry entry(const std::string& topic, int32_t partition, int64_t offset) {
    return {{topic, partition}, offset, -1, std::nullopt, -1};
  }
  Capture<std::vector<ErrorCode>> simple_commit(const std::string& group, int64_t offset) {
    return commit(group, "", -1, {entry("t", 0, offset)});
  }
  int64_t fetched(const std::string& group) {
    auto result = coordinator->fetch_offsets(group, std::vector<TopicPartition>{{"t", 0}}, false);
    EXPECT_EQ(result.error, E::kNone);
    return result.offsets.empty() ? -2 : result.offsets[0].offset;
  }
  Capture<std::vector<ErrorCode>> delete_groups(std::vector<std::string> ids) {
    Capture<std::vector<ErrorCode>> c;
    coordinator->delete_groups(ids, c.callback());
    return c;
  }
  Capture<OffsetDeleteResult> delete_offsets(const std::string& group) {
    Capture<OffsetDeleteResult> c;
    coordinator->delete_offsets(group, {{"t", 0}}, c.callback());
    return c;
  }
  // Joins `count` members and returns them once the join completes (CompletingRebalance).
  std::vector<Capture<JoinResult>> joined(const std::string& group, int count) {
    std::vector<Capture<JoinResult>> joins;
    for (int i = 0; i < count; ++i) {
      joins.push_back(join(params(group, member_id_for(group, "client" + std::to_string(i)))));
    }
    timers.advance(0);
    for (auto& j : joins) EXPECT_TRUE(j.done() && j->error == E::kNone);
    return joins;
  }
};

TEST_F(CoordinatorTest, FinishLoadingLoadsEveryPartition) {
  for (int32_t p = 0; p < 8; ++p) EXPECT_EQ(coordinator->partition_load(p), PartitionLoad::kLoaded) << p;
  EXPECT_EQ(coordinator->partition_load(8), PartitionLoad::kNotOwned);
}

TEST_F(PartitionLoadTest, OnlyGroupsOfLoadedPartitionsAreServed) {
  coordinator->unload_partition(kB);
  EXPECT_EQ(coordinator->partition_load(kA), PartitionLoad::kLoaded);
  EXPECT_EQ(coordinator->partition_load(kB), PartitionLoad::kNotOwned);
  EXPECT_EQ(coordinator->partition_load(0), PartitionLoad::kNotOwned);
  const std::string a = group_in(kA);
  const std::string b = group_in(kB);
  const std::string elsewhere = group_in(0);
  auto ids = stable_group(a, 1);

  for (const auto& other : {b, elsewhere}) {
    auto j = join(params(other, ""));
    ASSERT_TRUE(j.done());
    EXPECT_EQ(j->error, E::kNotCoordinator);
    EXPECT_EQ(sync(other, "m", 1)->error, E::kNotCoordinator);
    EXPECT_EQ(coordinator->heartbeat(other, "m", std::nullopt, 1), E::kNotCoordinator);
    auto left = coordinator->leave_group(other, {{"m", std::nullopt, std::nullopt}});
    EXPECT_EQ(left.error, E::kNotCoordinator);
    EXPECT_TRUE(left.members.empty());
    EXPECT_EQ(*simple_commit(other, 1), std::vector<ErrorCode>{E::kNotCoordinator});
    auto fetch = coordinator->fetch_offsets(other, std::nullopt, false);
    EXPECT_EQ(fetch.error, E::kNotCoordinator);
    EXPECT_TRUE(fetch.offsets.empty());
    EXPECT_EQ(delete_offsets(other)->error, E::kNotCoordinator);
    auto described = coordinator->describe_group(other);
    EXPECT_EQ(described.error, E::kNotCoordinator);
    EXPECT_EQ(described.state, "");
    EXPECT_EQ(*delete_groups({other}), std::vector<ErrorCode>{E::kNotCoordinator});
    EXPECT_EQ(coordinator->group(other), nullptr);
  }
  EXPECT_EQ(store.pending(), 0u) << "nothing is written for groups that are not ours";
  // An invalid group id is still refused as such first, as Kafka's validateGroupStatus.
  EXPECT_EQ(join(params("", ""))->error, E::kInvalidGroupId);
  EXPECT_EQ(coordinator->heartbeat(a, ids[0], std::nullopt, 1), E::kNone);
}

TEST_F(PartitionLoadTest, RequestsDuringTheLoadAreToldItIsInProgress) {
  const std::string a = group_in(kA);
  const std::string b = group_in(kB);
  auto ids = stable_group(a, 1);
  auto c = commit(a, ids[0], 1, {entry("t", 0, 7)});
  auto cb = simple_commit(b, 3);
  store.complete_all();
  coordinator->unload_partition(kA);

  bool loading_seen = false;
  coordinator->load_partition(kA, [&](const std::function<void(const LogRecord&)>& feed) {
    EXPECT_EQ(coordinator->partition_load(kA), PartitionLoad::kLoading);
    log_of(kA)(feed);
    EXPECT_EQ(join(params(a, ""))->error, E::kCoordinatorLoadInProgress);
    EXPECT_EQ(coordinator->leave_group(a, {{ids[0], std::nullopt, std::nullopt}}).error, E::kCoordinatorLoadInProgress);
    EXPECT_EQ((*commit(a, ids[0], 1, {entry("t", 0, 8)}))[0], E::kCoordinatorLoadInProgress);
    EXPECT_EQ(coordinator->fetch_offsets(a, std::nullopt, false).error, E::kCoordinatorLoadInProgress);
    EXPECT_EQ(delete_offsets(a)->error, E::kCoordinatorLoadInProgress);
    EXPECT_EQ(coordinator->describe_group(a).error, E::kCoordinatorLoadInProgress);
    EXPECT_EQ(*delete_groups({a}), std::vector<ErrorCode>{E::kCoordinatorLoadInProgress});
    // Kafka's exceptions, for clients that do not expect COORDINATOR_LOAD_IN_PROGRESS:
    // SyncGroup says REBALANCE_IN_PROGRESS (rejoin), Heartbeat is answered blindly.
    EXPECT_EQ(sync(a, ids[0], 1)->error, E::kRebalanceInProgress);
    EXPECT_EQ(coordinator->heartbeat(a, ids[0], std::nullopt, 1), E::kNone);
    // ListGroups: the groups already loaded, and the news that more are coming.
    auto listed = coordinator->list_groups({});
    EXPECT_EQ(listed.error, E::kCoordinatorLoadInProgress);
    ASSERT_EQ(listed.groups.size(), 1u);
    EXPECT_EQ(listed.groups[0].group_id, b);
    loading_seen = true;
  });
  EXPECT_TRUE(loading_seen);
  EXPECT_EQ(store.pending(), 0u);
  EXPECT_EQ(coordinator->partition_load(kA), PartitionLoad::kLoaded);
  EXPECT_EQ(fetched(a), 7);
  EXPECT_EQ(coordinator->heartbeat(a, ids[0], std::nullopt, 1), E::kNone);
  auto listed = coordinator->list_groups({});
  EXPECT_EQ(listed.error, E::kNone);
  EXPECT_EQ(listed.groups.size(), 2u);
}

TEST_F(PartitionLoadTest, UnloadAnswersMembersWaitingInJoinAndSyncGroupExactlyOnce) {
  const std::string rejoining = group_in(kA, 0);
  const std::string syncing = group_in(kA, 1);
  const std::string other = group_in(kB);
  // `rejoining`: the leader rejoins, so it waits in JoinGroup for the follower.
  auto r_ids = stable_group(rejoining, 2);
  auto waiting_join = join(params(rejoining, r_ids[0]));
  ASSERT_FALSE(waiting_join.done());
  ASSERT_EQ(group(rejoining).state(), GroupState::kPreparingRebalance);
  // `syncing`: a follower waits in SyncGroup for the leader's assignment.
  auto joins = joined(syncing, 2);
  auto& follower = joins[0]->leader == joins[0]->member_id ? joins[1] : joins[0];
  auto waiting_sync = sync(syncing, follower->member_id, follower->generation_id);
  ASSERT_FALSE(waiting_sync.done());
  auto o_ids = stable_group(other, 1);

  coordinator->unload_partition(kA);
  EXPECT_EQ(coordinator->partition_load(kA), PartitionLoad::kNotOwned);
  ASSERT_EQ(waiting_join.calls(), 1);
  EXPECT_EQ(waiting_join->error, E::kNotCoordinator);
  EXPECT_EQ(waiting_join->member_id, r_ids[0]);
  ASSERT_EQ(waiting_sync.calls(), 1);
  EXPECT_EQ(waiting_sync->error, E::kNotCoordinator);
  EXPECT_EQ(coordinator->group(rejoining), nullptr);
  EXPECT_EQ(coordinator->group(syncing), nullptr);
  EXPECT_EQ(coordinator->group_count(), 1u);

  // Nothing of theirs fires later; the other partition's group carries on.
  for (int i = 0; i < 20; ++i) {
    timers.advance(kSession / 2);
    EXPECT_EQ(coordinator->heartbeat(other, o_ids[0], std::nullopt, 1), E::kNone);
  }
  store.complete_all();
  EXPECT_EQ(waiting_join.calls(), 1);
  EXPECT_EQ(waiting_sync.calls(), 1);
  EXPECT_EQ(group(other).state(), GroupState::kStable);
}

TEST_F(PartitionLoadTest, UnloadAnswersAnAssignmentBeingWrittenOnce) {
  const std::string a = group_in(kA);
  auto joins = joined(a, 1);
  const std::string leader = joins[0]->member_id;
  auto s = sync(a, leader, 1, {{leader, to_bytes("x")}});
  ASSERT_EQ(store.pending(), 1u);
  coordinator->unload_partition(kA);
  ASSERT_EQ(s.calls(), 1);
  EXPECT_EQ(s->error, E::kNotCoordinator);
  store.complete_all();  // the write lands after all
  EXPECT_EQ(s.calls(), 1);
  EXPECT_EQ(timers.pending(), 0u);
  // The next coordinator finds the assignment in the log.
  load(kA);
  EXPECT_EQ(group(a).state(), GroupState::kStable);
  EXPECT_EQ(group(a).members().at(leader).assignment, to_bytes("x"));
}

TEST_F(PartitionLoadTest, UnloadAnswersAStaticRejoinBeingWrittenOnce) {
  const std::string a = group_in(kA);
  auto p = params(a, "");
  p.group_instance_id = "instance";
  auto first = join(p);
  timers.advance(0);
  ASSERT_TRUE(first.done());
  auto s = sync(a, first->member_id, 1, {{first->member_id, to_bytes("x")}});
  store.complete_all();
  ASSERT_EQ(group(a).state(), GroupState::kStable);
  auto rejoin = join(p);  // a restart: the new member id is being written
  ASSERT_EQ(store.pending(), 1u);
  coordinator->unload_partition(kA);
  ASSERT_EQ(rejoin.calls(), 1);
  EXPECT_EQ(rejoin->error, E::kNotCoordinator);
  store.complete_all(E::kNotLeaderOrFollower);
  EXPECT_EQ(rejoin.calls(), 1);
  EXPECT_EQ(timers.pending(), 0u) << "no session timer for a group that is not ours";
}

TEST_F(PartitionLoadTest, UnloadAnswersCommitsInFlightNotCoordinator) {
  const std::string a = group_in(kA);
  const std::string b = group_in(kB);
  auto ca = simple_commit(a, 5);
  auto cb = simple_commit(b, 6);
  ASSERT_EQ(store.pending(), 2u);
  coordinator->unload_partition(kA);
  ASSERT_EQ(ca.calls(), 1);
  EXPECT_EQ(*ca, std::vector<ErrorCode>{E::kNotCoordinator});
  EXPECT_FALSE(cb.done()) << "the other partition's commit still waits for its write";
  store.complete_all();  // both writes land
  EXPECT_EQ(ca.calls(), 1) << "the store's late answer is dropped";
  EXPECT_EQ(*cb, std::vector<ErrorCode>{E::kNone});
  EXPECT_EQ(fetched(b), 6);
  // The record did reach the log, so whoever loads the partition next has it; the
  // client, told NOT_COORDINATOR, retries the same commit there, which is harmless.
  load(kA);
  EXPECT_EQ(fetched(a), 5);
}

TEST_F(PartitionLoadTest, ReloadRestoresGroupsAndOffsetsFromTheLog) {
  const std::string stable = group_in(kA, 0);
  const std::string simple = group_in(kA, 1);
  auto ids = stable_group(stable, 2);
  auto c1 = commit(stable, ids[0], 1, {entry("t", 0, 11)});
  auto c2 = simple_commit(simple, 22);
  store.complete_all();
  coordinator->unload_partition(kA);
  EXPECT_EQ(coordinator->group_count(), 0u);
  EXPECT_EQ(coordinator->heartbeat(stable, ids[0], std::nullopt, 1), E::kNotCoordinator);

  load(kA);
  EXPECT_EQ(coordinator->partition_load(kA), PartitionLoad::kLoaded);
  EXPECT_EQ(coordinator->group_count(), 2u);
  const Group& g = group(stable);
  EXPECT_EQ(g.state(), GroupState::kStable);
  EXPECT_EQ(g.generation(), 1);
  EXPECT_EQ(g.leader_id(), ids[0]);
  for (const auto& id : ids) EXPECT_EQ(g.members().at(id).assignment, to_bytes("a-" + id));
  EXPECT_EQ(fetched(stable), 11);
  EXPECT_EQ(fetched(simple), 22);
  EXPECT_EQ(group(simple).state(), GroupState::kEmpty);
  // The loaded members' sessions run again: the silent one expires.
  for (int i = 0; i < 11; ++i) {
    timers.advance(1000);
    EXPECT_NE(coordinator->heartbeat(stable, ids[0], std::nullopt, 1), E::kNotCoordinator);
  }
  EXPECT_FALSE(group(stable).has(ids[1]));
}

TEST_F(PartitionLoadTest, SessionTimersOfUnloadedGroupsNeverFire) {
  const std::string a = group_in(kA);
  auto ids = stable_group(a, 2);
  member_id_for(a, "pending");  // a KIP-394 pending member, with its own timer
  ASSERT_GT(timers.pending(), 0u);
  coordinator->unload_partition(kA);
  EXPECT_EQ(timers.pending(), 0u);
  timers.advance(kSession * 10);
  EXPECT_EQ(store.pending(), 0u) << "no member expired, so no rebalance wrote anything";
  // Loaded again, the members' sessions start afresh from now.
  load(kA);
  timers.advance(kSession - 1);
  EXPECT_EQ(coordinator->heartbeat(a, ids[0], std::nullopt, 1), E::kNone);
  EXPECT_EQ(coordinator->heartbeat(a, ids[1], std::nullopt, 1), E::kNone);
}

TEST_F(PartitionLoadTest, ListDescribeAndDeleteAcrossLoadedAndUnloadedPartitions) {
  const std::string a_empty = group_in(kA, 0);
  const std::string a_stable = group_in(kA, 1);
  const std::string b = group_in(kB);
  auto c1 = simple_commit(a_empty, 1);
  auto c2 = simple_commit(b, 2);
  store.complete_all();
  stable_group(a_stable, 1);
  EXPECT_EQ(coordinator->list_groups({}).groups.size(), 3u);

  coordinator->unload_partition(kB);
  auto listed = coordinator->list_groups({});
  EXPECT_EQ(listed.error, E::kNone) << "partitions that are not ours are no error";
  ASSERT_EQ(listed.groups.size(), 2u);
  EXPECT_EQ(listed.groups[0].group_id, std::min(a_empty, a_stable));
  EXPECT_EQ(listed.groups[1].group_id, std::max(a_empty, a_stable));
  EXPECT_EQ(coordinator->list_groups({GroupState::kStable}).groups.size(), 1u);

  EXPECT_EQ(coordinator->describe_group(b).error, E::kNotCoordinator);
  auto described = coordinator->describe_group(a_stable);
  EXPECT_EQ(described.error, E::kNone);
  EXPECT_EQ(described.state, "Stable");

  auto deleted = delete_groups({a_empty, b, a_stable});
  store.complete_all();
  ASSERT_TRUE(deleted.done());
  EXPECT_EQ(*deleted, (std::vector<ErrorCode>{E::kNone, E::kNotCoordinator, E::kNonEmptyGroup}));
  EXPECT_EQ(coordinator->group(a_empty), nullptr);
}

TEST_F(PartitionLoadTest, UnloadAnswersADeletionBeingWritten) {
  const std::string a = group_in(kA);
  auto c = simple_commit(a, 1);
  store.complete_all();
  auto deleted = delete_groups({a});
  ASSERT_EQ(store.pending(), 1u);
  coordinator->unload_partition(kA);
  ASSERT_EQ(deleted.calls(), 1);
  EXPECT_EQ(*deleted, std::vector<ErrorCode>{E::kNotCoordinator});
  store.complete_all();
  EXPECT_EQ(deleted.calls(), 1);
}

TEST_F(PartitionLoadTest, OffsetExpirationOnlyTouchesLoadedPartitions) {
  config.offsets_retention_ms = 60'000;
  SetUp();
  const std::string a = group_in(kA);
  const std::string b = group_in(kB);
  auto ca = simple_commit(a, 1);
  auto cb = simple_commit(b, 2);
  store.complete_all();
  coordinator->unload_partition(kB);
  const size_t before = store.written().size();
  timers.advance(120'000);
  coordinator->expire_offsets();
  store.complete_all();
  EXPECT_EQ(coordinator->group(a), nullptr);
  ASSERT_EQ(store.written().size(), before + 1);
  EXPECT_EQ(store.written().back().partition, kA);
  // B's offset is still in its log for whoever coordinates it.
  load(kB);
  EXPECT_EQ(fetched(b), 2);
}

TEST_F(PartitionLoadTest, StoreErrorsGetKafkasAnswers) {
  const std::string a = group_in(kA, 0);
  // Offsets: leadership moved mid-write -> NOT_COORDINATOR; replicas too slow ->
  // REQUEST_TIMED_OUT, as Kafka's storeOffsets (consumers rediscover and retry).
  auto moved = simple_commit(a, 1);
  store.complete_all(E::kNotLeaderOrFollower);
  EXPECT_EQ(*moved, std::vector<ErrorCode>{E::kNotCoordinator});
  auto slow = simple_commit(a, 1);
  store.complete_all(E::kRequestTimedOut);
  EXPECT_EQ(*slow, std::vector<ErrorCode>{E::kRequestTimedOut});
  EXPECT_EQ(fetched(a), -1) << "a failed commit is not visible";

  // Assignments: NOT_COORDINATOR, and REBALANCE_IN_PROGRESS for a timeout (Kafka's storeGroup).
  for (auto [store_error, expected] : {std::pair{E::kNotLeaderOrFollower, E::kNotCoordinator},
                                       std::pair{E::kRequestTimedOut, E::kRebalanceInProgress}}) {
    const std::string g = group_in(kA, store_error == E::kRequestTimedOut ? 2 : 1);
    auto joins = joined(g, 1);
    const std::string leader = joins[0]->member_id;
    auto s = sync(g, leader, 1, {{leader, to_bytes("x")}});
    store.complete_all(store_error);
    ASSERT_TRUE(s.done());
    EXPECT_EQ(s->error, expected);
  }
  EXPECT_EQ(map_group_store_error(E::kNotLeaderOrFollower), E::kNotCoordinator);
  EXPECT_EQ(map_group_store_error(E::kRequestTimedOut), E::kRebalanceInProgress);
  EXPECT_EQ(map_offset_store_error(E::kNotLeaderOrFollower), E::kNotCoordinator);
  EXPECT_EQ(map_offset_store_error(E::kRequestTimedOut), E::kRequestTimedOut);
}

TEST_F(PartitionLoadTest, LoadAndUnloadAreIdempotent) {
  int replays = 0;
  auto count = [&](const std::function<void(const LogRecord&)>&) { ++replays; };
  coordinator->load_partition(kA, count);
  EXPECT_EQ(replays, 0) << "already loaded: not loaded twice";
  coordinator->unload_partition(kA);
  coordinator->unload_partition(kA);
  coordinator->unload_partition(0);  // never ours
  EXPECT_EQ(coordinator->partition_load(kA), PartitionLoad::kNotOwned);
  coordinator->load_partition(kA, count);
  EXPECT_EQ(replays, 1);
  EXPECT_EQ(coordinator->partition_load(kA), PartitionLoad::kLoaded);
}

TEST_F(PartitionLoadTest, UnloadDuringTheLoadDiscardsWhatWasRead) {
  const std::string a = group_in(kA);
  auto c = simple_commit(a, 4);
  store.complete_all();
  coordinator->unload_partition(kA);
  coordinator->load_partition(kA, [&](const std::function<void(const LogRecord&)>& feed) {
    log_of(kA)(feed);
    coordinator->unload_partition(kA);  // leadership moved again meanwhile
  });
  EXPECT_EQ(coordinator->partition_load(kA), PartitionLoad::kNotOwned);
  EXPECT_EQ(coordinator->group(a), nullptr);
  EXPECT_EQ(coordinator->fetch_offsets(a, std::nullopt, false).error, E::kNotCoordinator);
}

TEST_F(PartitionLoadTest, AFailedLoadLeavesThePartitionUnowned) {
  coordinator->unload_partition(kA);
  EXPECT_THROW(coordinator->load_partition(kA, [](const std::function<void(const LogRecord&)>&) {
    throw std::runtime_error("cannot read the log");
  }),
               std::runtime_error);
  EXPECT_EQ(coordinator->partition_load(kA), PartitionLoad::kNotOwned);
  load(kA);
  EXPECT_EQ(coordinator->partition_load(kA), PartitionLoad::kLoaded);
}

TEST_F(PartitionLoadTest, RecordsOfAnotherPartitionsGroupsAreSkipped) {
  const std::string a = group_in(kA);
  const std::string b = group_in(kB);
  auto cb = simple_commit(b, 2);
  store.complete_all();
  coordinator->unload_partition(kA);
  // A stray record in A's log for a group of B must not overwrite B's state.
  coordinator->load_partition(kA, [&](const std::function<void(const LogRecord&)>& feed) {
    feed({encode_offset_commit_key({b, "t", 0}), encode_offset_commit_value({99, -1, "", 1, -1})});
    feed({encode_offset_commit_key({a, "t", 0}), encode_offset_commit_value({3, -1, "", 1, -1})});
  });
  EXPECT_EQ(fetched(b), 2);
  EXPECT_EQ(fetched(a), 3);
  EXPECT_EQ(coordinator->group_count(), 2u);
}

}  // namespace
}  // namespace runnel::coordinator::testing
