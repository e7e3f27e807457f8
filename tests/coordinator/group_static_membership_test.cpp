// Static membership (KIP-345): a member with a group.instance.id that restarts
// gets its assignment back without a rebalance; its old incarnation is fenced.
#include <gtest/gtest.h>

#include "coordinator/group_records.h"
#include "coordinator_fixture.h"

namespace runnel::coordinator::testing {
namespace {

class StaticMembershipTest : public CoordinatorTest {
 protected:
  JoinGroupParams static_params(const std::string& instance, const std::string& member_id = "",
                                std::vector<Protocol> protocols = {{"range", to_bytes("meta")}}) {
    auto p = params("g", member_id, std::move(protocols));
    p.group_instance_id = instance;
    p.client_id = "client-" + instance;
    return p;
  }

  // Two static members "a" and "b", stable at generation 1. Returns instance -> member id.
  std::map<std::string, std::string> stable_static_group(std::vector<Protocol> protocols = {{"range", to_bytes("meta")}}) {
    auto a = join(static_params("a", "", protocols));
    auto b = join(static_params("b", "", protocols));
    timers.advance(0);
    EXPECT_TRUE(a.done() && b.done());
    EXPECT_EQ(a->error, ErrorCode::kNone) << "static members need no MEMBER_ID_REQUIRED round trip";
    std::map<std::string, std::string> ids{{"a", a->member_id}, {"b", b->member_id}};
    EXPECT_TRUE(ids["a"].starts_with("a-"));
    std::map<std::string, Bytes> assignment{{ids["a"], to_bytes("A")}, {ids["b"], to_bytes("B")}};
    auto sa = sync("g", ids["a"], 1, a->leader == ids["a"] ? assignment : std::map<std::string, Bytes>{});
    auto sb = sync("g", ids["b"], 1, b->leader == ids["b"] ? assignment : std::map<std::string, Bytes>{});
    store.complete_all();
    EXPECT_TRUE(sa.done() && sb.done());
    EXPECT_EQ(group("g").state(), GroupState::kStable);
    return ids;
  }
};

TEST_F(StaticMembershipTest, RestartedMemberGetsItsAssignmentBackWithoutARebalance) {
  auto ids = stable_static_group();
  const std::string old_a = ids["a"];
  const std::string leader = *group("g").leader_id();

  auto rejoin = join(static_params("a"));  // a restarted process: no member id
  EXPECT_FALSE(rejoin.done()) << "answered once the new member id is durable";
  EXPECT_EQ(store.pending(), 1u);
  store.complete_all();
  ASSERT_TRUE(rejoin.done());
  EXPECT_EQ(rejoin->error, ErrorCode::kNone);
  const std::string new_a = rejoin->member_id;
  EXPECT_NE(new_a, old_a);
  EXPECT_EQ(rejoin->generation_id, 1) << "same generation: no rebalance";
  // Pre-v9 clients are told the previous leader id, so a restarted leader does not
  // run an assignment that nobody would receive.
  EXPECT_EQ(rejoin->leader, leader);
  EXPECT_TRUE(rejoin->members.empty());

  EXPECT_EQ(group("g").state(), GroupState::kStable);
  EXPECT_EQ(group("g").generation(), 1);
  EXPECT_EQ(coordinator->heartbeat("g", ids["b"], std::string("b"), 1), ErrorCode::kNone);

  auto s = sync("g", new_a, 1, {}, std::string("a"));
  ASSERT_TRUE(s.done());
  EXPECT_EQ(s->error, ErrorCode::kNone);
  EXPECT_EQ(s->assignment, to_bytes("A"));

  // The old incarnation is fenced; without its instance id it is simply unknown.
  EXPECT_EQ(coordinator->heartbeat("g", old_a, std::string("a"), 1), ErrorCode::kFencedInstanceId);
  EXPECT_EQ(coordinator->heartbeat("g", old_a, std::nullopt, 1), ErrorCode::kUnknownMemberId);
  OffsetCommitParams commit;
  commit.group_id = "g";
  commit.member_id = old_a;
  commit.group_instance_id = "a";
  commit.generation_id = 1;
  commit.offsets = {{{"t", 0}, 1, -1, std::nullopt, -1}};
  Capture<std::vector<ErrorCode>> fenced;
  coordinator->commit_offsets(commit, fenced.callback());
  EXPECT_EQ((*fenced)[0], ErrorCode::kFencedInstanceId);

  // The new member id was persisted with the unchanged assignment.
  const auto& last = store.written().back();
  ASSERT_EQ(last.records.size(), 1u);
  const auto value = decode_group_metadata_value(*last.records[0].value);
  EXPECT_EQ(value.generation, 1);
  bool found = false;
  for (const auto& m : value.members) {
    if (m.group_instance_id == "a") {
      found = true;
      EXPECT_EQ(m.member_id, new_a);
      EXPECT_EQ(m.assignment, to_bytes("A"));
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(StaticMembershipTest, V9LeaderRejoiningIsToldToSkipTheAssignment) {
  auto ids = stable_static_group();
  const std::string leader_instance = *group("g").leader_id() == ids["a"] ? "a" : "b";
  auto p = static_params(leader_instance);
  p.support_skipping_assignment = true;
  auto rejoin = join(p);
  store.complete_all();
  ASSERT_TRUE(rejoin.done());
  EXPECT_EQ(rejoin->leader, rejoin->member_id);
  EXPECT_TRUE(rejoin->skip_assignment);
  EXPECT_EQ(rejoin->members.size(), 2u);
  EXPECT_EQ(group("g").state(), GroupState::kStable);
}

TEST_F(StaticMembershipTest, FailedWriteRestoresTheOldMemberId) {
  auto ids = stable_static_group();
  auto rejoin = join(static_params("a"));
  store.complete_all(ErrorCode::kKafkaStorageError);
  ASSERT_TRUE(rejoin.done());
  EXPECT_EQ(rejoin->error, ErrorCode::kCoordinatorNotAvailable);
  EXPECT_TRUE(group("g").has(ids["a"]));
  EXPECT_EQ(coordinator->heartbeat("g", ids["a"], std::string("a"), 1), ErrorCode::kNone);
}

TEST_F(StaticMembershipTest, RejoinThatChangesTheSelectedProtocolRebalances) {
  auto ids = stable_static_group({{"range", {}}, {"roundrobin", {}}});
  const std::string leader_instance = *group("g").leader_id() == ids["a"] ? "a" : "b";
  // The leader now prefers roundrobin: one vote each, and a tie goes to the leader.
  auto rejoin = join(static_params(leader_instance, "", {{"roundrobin", {}}, {"range", {}}}));
  EXPECT_FALSE(rejoin.done());
  EXPECT_EQ(group("g").state(), GroupState::kPreparingRebalance);
}

TEST_F(StaticMembershipTest, StaticMemberThatDoesNotRejoinStaysThroughARebalance) {
  auto ids = stable_static_group();
  auto c = join(params("g", ""));  // a dynamic newcomer triggers a rebalance
  auto a = join(static_params("a", ids["a"]));
  for (int i = 0; i < 30; ++i) {
    timers.advance(1000);
    coordinator->heartbeat("g", ids["b"], std::string("b"), 1);  // alive, but never rejoins
  }
  ASSERT_TRUE(a.done());
  EXPECT_EQ(a->generation_id, 2);
  EXPECT_TRUE(group("g").has(ids["b"])) << "static members are removed only by their session timeout";
  EXPECT_EQ(coordinator->heartbeat("g", ids["b"], std::string("b"), 1), ErrorCode::kIllegalGeneration);
}

TEST_F(StaticMembershipTest, SilentStaticMemberExpiresAfterItsSessionTimeout) {
  auto ids = stable_static_group();
  for (int i = 0; i < 10; ++i) {
    timers.advance(1001);
    coordinator->heartbeat("g", ids["a"], std::string("a"), 1);
  }
  EXPECT_FALSE(group("g").has(ids["b"]));
  EXPECT_EQ(group("g").state(), GroupState::kPreparingRebalance);
}

TEST_F(StaticMembershipTest, AdminRemovesAStaticMemberByInstanceId) {
  auto ids = stable_static_group();
  auto result = coordinator->leave_group("g", {{"", std::string("b"), std::string("admin")},
                                               {"", std::string("zz"), std::nullopt}});
  EXPECT_EQ(result.members, (std::vector<ErrorCode>{ErrorCode::kNone, ErrorCode::kUnknownMemberId}));
  EXPECT_FALSE(group("g").has(ids["b"]));
  // Leaving with a member id that does not match the instance is fenced.
  auto fenced = coordinator->leave_group("g", {{"wrong", std::string("a"), std::nullopt}});
  EXPECT_EQ(fenced.members, std::vector<ErrorCode>{ErrorCode::kFencedInstanceId});
}

}  // namespace
}  // namespace runnel::coordinator::testing
