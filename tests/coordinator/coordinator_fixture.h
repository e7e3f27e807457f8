#pragma once
// A coordinator on fake time and a fake store, with helpers that run the
// JoinGroup/SyncGroup dance the way a client does.
#include <gtest/gtest.h>

#include "coordinator_fakes.h"

namespace runnel::coordinator::testing {

class CoordinatorTest : public ::testing::Test {
 protected:
  static constexpr int32_t kSession = 10000;
  static constexpr int32_t kRebalance = 30000;

  FakeTimers timers;
  FakeStore store{8};
  GroupCoordinatorConfig config = default_config();
  std::unique_ptr<GroupCoordinator> coordinator;

  static GroupCoordinatorConfig default_config() {
    GroupCoordinatorConfig c;
    c.min_session_timeout_ms = 1000;
    c.initial_rebalance_delay_ms = 0;
    return c;
  }

  void SetUp() override { restart(); }

  void restart() {
    coordinator = std::make_unique<GroupCoordinator>(config, timers, store);
    coordinator->finish_loading();
  }

  JoinGroupParams params(const std::string& group, const std::string& member_id,
                         std::vector<Protocol> protocols = {{"range", to_bytes("meta")}}) {
    JoinGroupParams p;
    p.group_id = group;
    p.member_id = member_id;
    p.client_id = "client";
    p.client_host = "/127.0.0.1";
    p.session_timeout_ms = kSession;
    p.rebalance_timeout_ms = kRebalance;
    p.protocol_type = "consumer";
    p.protocols = std::move(protocols);
    return p;
  }

  Capture<JoinResult> join(JoinGroupParams p) {
    Capture<JoinResult> c;
    coordinator->join_group(std::move(p), c.callback());
    return c;
  }

  // First JoinGroup of a v4+ client: returns the member id handed out.
  std::string member_id_for(const std::string& group, const std::string& client = "client") {
    auto p = params(group, "");
    p.client_id = client;
    p.require_known_member_id = true;
    auto c = join(std::move(p));
    EXPECT_TRUE(c.done());
    EXPECT_EQ(c->error, ErrorCode::kMemberIdRequired);
    return c->member_id;
  }

  Capture<SyncResult> sync(const std::string& group, const std::string& member_id, int32_t generation,
                           std::map<std::string, Bytes> assignments = {},
                           std::optional<std::string> instance = std::nullopt) {
    SyncGroupParams p;
    p.group_id = group;
    p.member_id = member_id;
    p.generation_id = generation;
    p.group_instance_id = std::move(instance);
    p.assignments = std::move(assignments);
    Capture<SyncResult> c;
    coordinator->sync_group(std::move(p), c.callback());
    return c;
  }

  // Joins `count` dynamic members, completes the rebalance and the leader's sync
  // (each member gets "a-<member id>"). Returns the member ids; leader first.
  std::vector<std::string> stable_group(const std::string& group, int count) {
    std::vector<std::string> ids;
    std::vector<Capture<JoinResult>> joins;
    for (int i = 0; i < count; ++i) {
      ids.push_back(member_id_for(group, "client" + std::to_string(i)));
      joins.push_back(join(params(group, ids.back())));
    }
    timers.advance(0);
    std::string leader;
    for (auto& j : joins) {
      EXPECT_TRUE(j.done());
      if (j.done() && j->leader == j->member_id) leader = j->member_id;
    }
    EXPECT_FALSE(leader.empty());
    const int32_t generation = joins[0]->generation_id;
    std::map<std::string, Bytes> assignment;
    for (const auto& id : ids) assignment[id] = to_bytes("a-" + id);
    std::vector<Capture<SyncResult>> syncs;
    for (const auto& id : ids) syncs.push_back(sync(group, id, generation, id == leader ? assignment : std::map<std::string, Bytes>{}));
    store.complete_all();
    for (auto& s : syncs) EXPECT_TRUE(s.done() && s->error == ErrorCode::kNone);
    std::stable_partition(ids.begin(), ids.end(), [&](const std::string& id) { return id == leader; });
    return ids;
  }

  const Group& group(const std::string& id) {
    const Group* g = coordinator->group(id);
    EXPECT_NE(g, nullptr) << id;
    static Group none("none", GroupState::kDead, 0);
    return g ? *g : none;
  }

  Capture<std::vector<ErrorCode>> commit(const std::string& group, const std::string& member, int32_t generation,
                                         std::vector<OffsetCommitEntry> offsets) {
    OffsetCommitParams p;
    p.group_id = group;
    p.member_id = member;
    p.generation_id = generation;
    p.offsets = std::move(offsets);
    Capture<std::vector<ErrorCode>> c;
    coordinator->commit_offsets(std::move(p), c.callback());
    return c;
  }
};

}  // namespace runnel::coordinator::testing
