// The classic rebalance protocol on fake time: joins, the initial delay,
// session/rebalance/sync timeouts, protocol selection and the error codes
// clients rely on.
#include <gtest/gtest.h>

#include "coordinator_fixture.h"

namespace runnel::coordinator::testing {
namespace {

TEST_F(CoordinatorTest, MemberIdRequiredThenJoinSyncStable) {
  const std::string id = member_id_for("g");
  EXPECT_TRUE(id.starts_with("client-")) << id;
  EXPECT_EQ(id.size(), std::string("client-").size() + 36);
  EXPECT_TRUE(group("g").is_pending_member(id));

  auto j = join(params("g", id));
  EXPECT_FALSE(j.done()) << "waits for the (zero) initial delay";
  timers.advance(0);
  ASSERT_TRUE(j.done());
  EXPECT_EQ(j->error, ErrorCode::kNone);
  EXPECT_EQ(j->generation_id, 1);
  EXPECT_EQ(j->leader, id);
  EXPECT_EQ(j->protocol_type, "consumer");
  EXPECT_EQ(j->protocol_name, "range");
  ASSERT_EQ(j->members.size(), 1u);
  EXPECT_EQ(j->members[0].metadata, to_bytes("meta"));
  EXPECT_EQ(group("g").state(), GroupState::kCompletingRebalance);

  auto s = sync("g", id, 1, {{id, to_bytes("assignment")}});
  EXPECT_FALSE(s.done()) << "answered only once the assignment is durable";
  EXPECT_EQ(store.pending(), 1u);
  store.complete_all();
  ASSERT_TRUE(s.done());
  EXPECT_EQ(s->error, ErrorCode::kNone);
  EXPECT_EQ(s->assignment, to_bytes("assignment"));
  EXPECT_EQ(group("g").state(), GroupState::kStable);
  EXPECT_EQ(coordinator->heartbeat("g", id, std::nullopt, 1), ErrorCode::kNone);
}

TEST_F(CoordinatorTest, OldClientsJoinWithoutMemberIdRequired) {
  auto j = join(params("g", ""));  // JoinGroup v0-3: require_known_member_id = false
  timers.advance(0);
  ASSERT_TRUE(j.done());
  EXPECT_EQ(j->error, ErrorCode::kNone);
  EXPECT_FALSE(j->member_id.empty());
  EXPECT_EQ(j->generation_id, 1);
}

TEST_F(CoordinatorTest, PendingMemberExpiresAfterSessionTimeout) {
  const std::string id = member_id_for("g");
  timers.advance(kSession + 1);
  EXPECT_FALSE(group("g").is_pending_member(id));
  auto j = join(params("g", id));
  ASSERT_TRUE(j.done());
  EXPECT_EQ(j->error, ErrorCode::kUnknownMemberId);
}

TEST_F(CoordinatorTest, InitialDelayIsExtendedWhileMembersKeepJoiningUpToTheRebalanceTimeout) {
  config.initial_rebalance_delay_ms = 3000;
  restart();
  auto a = join(params("g", ""));
  timers.advance(2000);
  auto b = join(params("g", ""));  // a new member during the delay extends it
  timers.advance(999);
  EXPECT_FALSE(a.done());
  timers.advance(1);  // t=3000: the first delay ends, extended by another 3000
  EXPECT_FALSE(a.done());
  EXPECT_FALSE(b.done());
  timers.advance(2999);
  EXPECT_FALSE(a.done());
  timers.advance(1);  // t=6000: nobody new, so the generation forms
  ASSERT_TRUE(a.done());
  ASSERT_TRUE(b.done());
  EXPECT_EQ(a->generation_id, 1);
  EXPECT_EQ(b->generation_id, 1);
  EXPECT_EQ(group("g").size(), 2u);
}

TEST_F(CoordinatorTest, InitialDelayNeverExceedsTheRebalanceTimeout) {
  config.initial_rebalance_delay_ms = 3000;
  restart();
  auto p = params("g", "");
  p.rebalance_timeout_ms = 5000;
  auto a = join(p);
  std::vector<Capture<JoinResult>> late;
  // A new member every second keeps extending the delay, but only up to 5000 ms.
  for (int i = 0; i < 10 && !a.done(); ++i) {
    timers.advance(1000);
    if (!a.done()) late.push_back(join(p));
  }
  ASSERT_TRUE(a.done());
  EXPECT_LE(timers.now - 1'700'000'000'000, 6000);
}

TEST_F(CoordinatorTest, NoInitialDelayOnceTheGroupIsStable) {
  config.initial_rebalance_delay_ms = 3000;
  restart();
  auto a = join(params("g", ""));
  timers.advance(3000);
  ASSERT_TRUE(a.done());
  const std::string a_id = a->member_id;
  auto s = sync("g", a_id, 1, {{a_id, to_bytes("x")}});
  store.complete_all();
  ASSERT_TRUE(s.done());
  // A second member: the leader rejoins at once, and the rebalance completes as
  // soon as everyone has joined.
  auto b = join(params("g", ""));
  EXPECT_EQ(coordinator->heartbeat("g", a_id, std::nullopt, 1), ErrorCode::kRebalanceInProgress);
  auto a2 = join(params("g", a_id));
  ASSERT_TRUE(a2.done());
  ASSERT_TRUE(b.done());
  EXPECT_EQ(a2->generation_id, 2);
  EXPECT_EQ(a2->members.size(), 2u);
}

TEST_F(CoordinatorTest, RebalanceTimeoutRemovesMembersThatDoNotRejoin) {
  auto ids = stable_group("g", 2);
  auto p = params("g", "");
  auto c = join(p);  // new member: rebalance
  auto a = join(params("g", ids[0]));
  EXPECT_FALSE(a.done());
  // ids[1] keeps heartbeating (REBALANCE_IN_PROGRESS) but never rejoins.
  for (int i = 0; i < 29; ++i) {
    timers.advance(1000);
    EXPECT_EQ(coordinator->heartbeat("g", ids[1], std::nullopt, 1), ErrorCode::kRebalanceInProgress);
  }
  EXPECT_FALSE(a.done());
  timers.advance(1000);
  ASSERT_TRUE(a.done());
  ASSERT_TRUE(c.done());
  EXPECT_EQ(a->generation_id, 2);
  EXPECT_EQ(group("g").size(), 2u);
  EXPECT_FALSE(group("g").has(ids[1]));
  EXPECT_EQ(coordinator->heartbeat("g", ids[1], std::nullopt, 2), ErrorCode::kUnknownMemberId);
}

TEST_F(CoordinatorTest, SessionTimeoutRemovesASilentMemberAndTheOthersRebalance) {
  auto ids = stable_group("g", 3);
  for (int i = 0; i < 9; ++i) {
    timers.advance(1000);
    EXPECT_EQ(coordinator->heartbeat("g", ids[0], std::nullopt, 1), ErrorCode::kNone);
    EXPECT_EQ(coordinator->heartbeat("g", ids[1], std::nullopt, 1), ErrorCode::kNone);
  }
  timers.advance(1001);  // ids[2] has been silent for a whole session
  EXPECT_FALSE(group("g").has(ids[2]));
  EXPECT_EQ(group("g").state(), GroupState::kPreparingRebalance);
  EXPECT_EQ(coordinator->heartbeat("g", ids[0], std::nullopt, 1), ErrorCode::kRebalanceInProgress);
  auto a = join(params("g", ids[0]));
  EXPECT_FALSE(a.done());
  auto b = join(params("g", ids[1]));
  ASSERT_TRUE(a.done());  // everyone left has rejoined: no need to wait for the timeout
  ASSERT_TRUE(b.done());
  EXPECT_EQ(a->generation_id, 2);
  EXPECT_EQ(a->members.size(), 2u);
}

TEST_F(CoordinatorTest, MembersThatDoNotSyncInTimeAreRemoved) {
  auto a_id = member_id_for("g");
  auto b_id = member_id_for("g");
  auto a = join(params("g", a_id));
  auto b = join(params("g", b_id));
  timers.advance(0);
  ASSERT_TRUE(a.done() && b.done());
  const std::string leader = a->leader;
  const std::string follower = leader == a_id ? b_id : a_id;
  auto s = sync("g", leader, 1, {{leader, to_bytes("x")}});
  store.complete_all();
  ASSERT_TRUE(s.done());
  // Both keep heartbeating, but the follower never sends SyncGroup: after the
  // rebalance timeout it is removed all the same.
  for (int i = 0; i < 29; ++i) {
    timers.advance(1000);
    EXPECT_EQ(coordinator->heartbeat("g", leader, std::nullopt, 1), ErrorCode::kNone);
    EXPECT_EQ(coordinator->heartbeat("g", follower, std::nullopt, 1), ErrorCode::kNone);
  }
  EXPECT_TRUE(group("g").has(follower));
  timers.advance(1000);
  EXPECT_FALSE(group("g").has(follower));
  EXPECT_EQ(group("g").state(), GroupState::kPreparingRebalance);
}

TEST_F(CoordinatorTest, LeaderLeavingDuringCompletingRebalanceSendsFollowersBackToJoin) {
  auto a_id = member_id_for("g");
  auto b_id = member_id_for("g");
  auto a = join(params("g", a_id));
  auto b = join(params("g", b_id));
  timers.advance(0);
  const std::string leader = a->leader;
  const std::string follower = leader == a_id ? b_id : a_id;
  auto fs = sync("g", follower, 1);
  EXPECT_FALSE(fs.done());
  auto result = coordinator->leave_group("g", {{leader, std::nullopt, "bye"}});
  EXPECT_EQ(result.members, std::vector<ErrorCode>{ErrorCode::kNone});
  ASSERT_TRUE(fs.done());
  EXPECT_EQ(fs->error, ErrorCode::kRebalanceInProgress);
  auto again = join(params("g", follower));
  ASSERT_TRUE(again.done());
  EXPECT_EQ(again->generation_id, 2);
  EXPECT_EQ(again->leader, follower);
}

TEST_F(CoordinatorTest, FailedAssignmentWriteAnswersEveryoneAndRebalances) {
  auto a_id = member_id_for("g");
  auto a = join(params("g", a_id));
  timers.advance(0);
  auto s = sync("g", a_id, 1, {{a_id, to_bytes("x")}});
  store.complete_all(ErrorCode::kKafkaStorageError);
  ASSERT_TRUE(s.done());
  EXPECT_EQ(s->error, ErrorCode::kCoordinatorNotAvailable);
  EXPECT_EQ(group("g").state(), GroupState::kPreparingRebalance);
}

TEST_F(CoordinatorTest, LeaveGroupBatchesMembersAndReportsEachOne) {
  auto ids = stable_group("g", 3);
  auto result = coordinator->leave_group(
      "g", {{ids[1], std::nullopt, std::nullopt}, {"nobody", std::nullopt, std::nullopt}, {ids[2], std::nullopt, "x"}});
  EXPECT_EQ(result.error, ErrorCode::kNone);
  EXPECT_EQ(result.members,
            (std::vector<ErrorCode>{ErrorCode::kNone, ErrorCode::kUnknownMemberId, ErrorCode::kNone}));
  EXPECT_EQ(group("g").size(), 1u);
  EXPECT_EQ(group("g").state(), GroupState::kPreparingRebalance);
  auto unknown_group = coordinator->leave_group("nope", {{"m", std::nullopt, std::nullopt}});
  EXPECT_EQ(unknown_group.error, ErrorCode::kNone);
  EXPECT_EQ(unknown_group.members, std::vector<ErrorCode>{ErrorCode::kUnknownMemberId});
}

TEST_F(CoordinatorTest, LastMemberLeavingEmptiesTheGroupAndWritesIt) {
  auto ids = stable_group("g", 1);
  const size_t writes = store.written().size();
  coordinator->leave_group("g", {{ids[0], std::nullopt, std::nullopt}});
  EXPECT_EQ(group("g").state(), GroupState::kEmpty);
  EXPECT_EQ(group("g").generation(), 2);
  store.complete_all();
  EXPECT_EQ(store.written().size(), writes + 1) << "the empty generation is persisted";
}

TEST_F(CoordinatorTest, ProtocolSelectionPicksACommonProtocolByVotes) {
  auto p = [&](std::vector<std::string> names) {
    std::vector<Protocol> protocols;
    for (auto& n : names) protocols.push_back({n, to_bytes(n)});
    return params("g", "", protocols);
  };
  auto a = join(p({"roundrobin", "range"}));
  auto b = join(p({"range", "roundrobin"}));
  auto c = join(p({"range", "sticky"}));
  timers.advance(0);
  ASSERT_TRUE(a.done());
  EXPECT_EQ(a->protocol_name, "range") << "roundrobin is not supported by every member";
  EXPECT_EQ(c->protocol_name, "range");
}

TEST_F(CoordinatorTest, ProtocolSelectionMajorityAndTieBreak) {
  auto p = [&](const std::string& group, std::vector<std::string> names) {
    std::vector<Protocol> protocols;
    for (auto& n : names) protocols.push_back({n, {}});
    return params(group, "", protocols);
  };
  auto a = join(p("majority", {"x", "y"}));
  auto b = join(p("majority", {"y", "x"}));
  auto c = join(p("majority", {"y", "x"}));
  timers.advance(0);
  ASSERT_TRUE(a.done());
  EXPECT_EQ(a->protocol_name, "y");

  auto d = join(p("tie", {"x", "y"}));
  auto e = join(p("tie", {"y", "x"}));
  timers.advance(0);
  ASSERT_TRUE(d.done());
  EXPECT_EQ(d->protocol_name, "x") << "a tie goes to the leader's (first member's) preference";
}

TEST_F(CoordinatorTest, InconsistentProtocolsAreRejected) {
  stable_group("g", 1);
  auto other_type = params("g", "");
  other_type.protocol_type = "connect";
  auto r1 = join(other_type);
  ASSERT_TRUE(r1.done());
  EXPECT_EQ(r1->error, ErrorCode::kInconsistentGroupProtocol);
  auto r2 = join(params("g", "", {{"roundrobin", {}}}));
  ASSERT_TRUE(r2.done());
  EXPECT_EQ(r2->error, ErrorCode::kInconsistentGroupProtocol);
  auto r3 = join(params("new", "", {}));
  ASSERT_TRUE(r3.done());
  EXPECT_EQ(r3->error, ErrorCode::kInconsistentGroupProtocol) << "no protocols at all";
}

TEST_F(CoordinatorTest, ErrorCodesForBadRequests) {
  auto ids = stable_group("g", 1);
  const std::string& id = ids[0];

  EXPECT_EQ(coordinator->heartbeat("g", id, std::nullopt, 7), ErrorCode::kIllegalGeneration);
  EXPECT_EQ(coordinator->heartbeat("g", "stranger", std::nullopt, 1), ErrorCode::kUnknownMemberId);
  EXPECT_EQ(coordinator->heartbeat("nope", id, std::nullopt, 1), ErrorCode::kUnknownMemberId);
  EXPECT_EQ(coordinator->heartbeat("", id, std::nullopt, 1), ErrorCode::kInvalidGroupId);

  auto empty_join = join(params("", ""));
  ASSERT_TRUE(empty_join.done());
  EXPECT_EQ(empty_join->error, ErrorCode::kInvalidGroupId);
  auto p = params("g", "");
  p.session_timeout_ms = 999;
  auto bad_session = join(p);
  ASSERT_TRUE(bad_session.done());
  EXPECT_EQ(bad_session->error, ErrorCode::kInvalidSessionTimeout);
  p.session_timeout_ms = config.max_session_timeout_ms + 1;
  auto bad_session2 = join(p);
  EXPECT_EQ(bad_session2->error, ErrorCode::kInvalidSessionTimeout);
  auto unknown = join(params("g", "stranger"));
  EXPECT_EQ(unknown->error, ErrorCode::kUnknownMemberId);
  auto unknown_group = join(params("nope", "stranger"));
  EXPECT_EQ(unknown_group->error, ErrorCode::kUnknownMemberId);

  EXPECT_EQ(sync("g", id, 2)->error, ErrorCode::kIllegalGeneration);
  EXPECT_EQ(sync("g", "stranger", 1)->error, ErrorCode::kUnknownMemberId);
  EXPECT_EQ(sync("", id, 1)->error, ErrorCode::kInvalidGroupId);
  SyncGroupParams v5;
  v5.group_id = "g";
  v5.member_id = id;
  v5.generation_id = 1;
  v5.protocol_type = "consumer";
  v5.protocol_name = "roundrobin";
  Capture<SyncResult> mismatch;
  coordinator->sync_group(v5, mismatch.callback());
  EXPECT_EQ(mismatch->error, ErrorCode::kInconsistentGroupProtocol);
  v5.protocol_name = "range";
  Capture<SyncResult> match;
  coordinator->sync_group(v5, match.callback());
  EXPECT_EQ(match->error, ErrorCode::kNone);
  EXPECT_EQ(match->protocol_name, "range");
  EXPECT_EQ(match->assignment, to_bytes("a-" + id));

  EXPECT_EQ(coordinator->leave_group("", {}).error, ErrorCode::kInvalidGroupId);
}

TEST_F(CoordinatorTest, GroupMaxSizeRejectsExtraMembers) {
  config.max_group_size = 2;
  restart();
  auto ids = stable_group("g", 2);
  auto third = join(params("g", ""));
  ASSERT_TRUE(third.done());
  EXPECT_EQ(third->error, ErrorCode::kGroupMaxSizeReached);
  EXPECT_EQ(group("g").state(), GroupState::kStable);
}

TEST_F(CoordinatorTest, RebalanceCompletesWithoutASilentMember) {
  auto ids = stable_group("g", 1);
  auto newcomer = join(params("g", ""));  // old-style join: a member right away
  EXPECT_FALSE(newcomer.done());
  // The leader never rejoins and stays silent: the rebalance completes without it.
  timers.advance(kRebalance);
  ASSERT_TRUE(newcomer.done());
  EXPECT_EQ(newcomer->error, ErrorCode::kNone);
  EXPECT_EQ(newcomer->generation_id, 2);
  EXPECT_FALSE(group("g").has(ids[0]));
}

TEST_F(CoordinatorTest, ListAndDescribeGroups) {
  auto ids = stable_group("stable", 2);
  auto c = commit("simple", "", -1, {{{"t", 0}, 5, -1, "m", -1}});
  store.complete_all();
  auto all = coordinator->list_groups({});
  ASSERT_EQ(all.groups.size(), 2u);
  EXPECT_EQ(all.groups[0].group_id, "simple");
  EXPECT_EQ(all.groups[0].state, "Empty");
  EXPECT_EQ(all.groups[0].protocol_type, "");
  EXPECT_EQ(all.groups[1].state, "Stable");
  EXPECT_EQ(all.groups[1].protocol_type, "consumer");
  auto stable_only = coordinator->list_groups({GroupState::kStable});
  ASSERT_EQ(stable_only.groups.size(), 1u);
  EXPECT_EQ(stable_only.groups[0].group_id, "stable");
  EXPECT_EQ(parse_group_state("stable"), GroupState::kStable);
  EXPECT_EQ(parse_group_state("PreparingRebalance"), GroupState::kPreparingRebalance);
  EXPECT_FALSE(parse_group_state("bogus"));

  auto described = coordinator->describe_group("stable");
  EXPECT_EQ(described.state, "Stable");
  EXPECT_EQ(described.protocol, "range");
  ASSERT_EQ(described.members.size(), 2u);
  for (const auto& m : described.members) {
    EXPECT_EQ(m.metadata, to_bytes("meta"));
    EXPECT_EQ(m.assignment, to_bytes("a-" + m.member_id));
    EXPECT_EQ(m.client_host, "/127.0.0.1");
  }
  auto missing = coordinator->describe_group("missing");
  EXPECT_EQ(missing.error, ErrorCode::kNone);
  EXPECT_EQ(missing.state, "Dead");
}

}  // namespace
}  // namespace runnel::coordinator::testing
