// Acceptance 6: raw group-protocol requests get the error codes Kafka clients
// expect: wrong generation, unknown member, commits for topics/partitions that
// do not exist, empty and over-long group ids; plus FindCoordinator, the
// internal offsets topic and the group admin APIs.
#include <gtest/gtest.h>

#include "broker_process.h"
#include "group_consumer.h"
#include "group_raw_client.h"
#include "group_verification.h"
#include "protocol/messages/delete_groups.h"
#include "protocol/messages/describe_groups.h"
#include "protocol/messages/find_coordinator.h"
#include "protocol/messages/heartbeat.h"
#include "protocol/messages/join_group.h"
#include "protocol/messages/leave_group.h"
#include "protocol/messages/list_groups.h"
#include "protocol/messages/metadata.h"
#include "protocol/messages/offset_commit.h"
#include "protocol/messages/offset_delete.h"
#include "protocol/messages/offset_fetch.h"
#include "protocol/messages/sync_group.h"
#include "wire_codec.h"

namespace runnel::it {
namespace {

using namespace runnel::protocol;

// Kafka error codes (see Kafka's Errors.java).
constexpr std::int16_t kNone = 0;
constexpr std::int16_t kUnknownTopicOrPartition = 3;
constexpr std::int16_t kOffsetMetadataTooLarge = 12;
constexpr std::int16_t kCoordinatorNotAvailable = 15;
constexpr std::int16_t kInvalidTopic = 17;
constexpr std::int16_t kIllegalGeneration = 22;
constexpr std::int16_t kInconsistentGroupProtocol = 23;
constexpr std::int16_t kInvalidGroupId = 24;
constexpr std::int16_t kUnknownMemberId = 25;
constexpr std::int16_t kInvalidSessionTimeout = 26;
constexpr std::int16_t kNonEmptyGroup = 68;
constexpr std::int16_t kGroupIdNotFound = 69;
constexpr std::int16_t kMemberIdRequired = 79;

constexpr int kPartitions = 3;
const std::string kTopic = "errors-topic";

class GroupProtocolErrors : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    broker_ = new BrokerProcess(GroupBrokerSettings(kPartitions));
    ASSERT_TRUE(broker_->start());
    ASSERT_EQ(ProduceNumbered(broker_->bootstrap(), kTopic, kPartitions, 0, 1), "");
  }
  static void TearDownTestSuite() {
    if (broker_) {
      EXPECT_EQ(broker_->stop(), 0) << broker_->stderr_tail();
    }
    delete broker_;
    broker_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(client.connect(broker_->port())); }

  static JoinGroupRequest join_request(const std::string& group, const std::string& member_id) {
    JoinGroupRequest r;
    r.group_id = group;
    r.session_timeout_ms = 10000;
    r.rebalance_timeout_ms = 10000;
    r.member_id = member_id;
    r.protocol_type = "consumer";
    r.protocols.push_back({"range", {0, 0, 0, 0, 0, 0}});
    return r;
  }

  struct Member {
    std::string id;
    std::int32_t generation = -1;
  };

  // MEMBER_ID_REQUIRED, rejoin, SyncGroup: a one-member stable group.
  Member stable_member(const std::string& group) {
    auto first = client.call<JoinGroupResponse>(join_request(group, ""), 5);
    EXPECT_TRUE(first && first->error_code == kMemberIdRequired);
    if (!first) return {};
    auto joined = client.call<JoinGroupResponse>(join_request(group, first->member_id), 5);
    EXPECT_TRUE(joined && joined->error_code == kNone);
    if (!joined) return {};
    EXPECT_EQ(joined->leader, first->member_id);
    SyncGroupRequest sync;
    sync.group_id = group;
    sync.generation_id = joined->generation_id;
    sync.member_id = first->member_id;
    sync.assignments.push_back({first->member_id, {0, 1, 2}});
    auto synced = client.call<SyncGroupResponse>(sync, 3);
    EXPECT_TRUE(synced && synced->error_code == kNone);
    return {first->member_id, joined->generation_id};
  }

  std::optional<std::int16_t> heartbeat(const std::string& group, const std::string& member, std::int32_t generation) {
    HeartbeatRequest r;
    r.group_id = group;
    r.member_id = member;
    r.generation_id = generation;
    auto response = client.call<HeartbeatResponse>(r, 3);
    return response ? std::optional<std::int16_t>(response->error_code) : std::nullopt;
  }

  // OffsetCommit v7 of offset 1 for each (topic, partition); returns the partition errors in order.
  std::vector<std::int16_t> commit(const std::string& group, const std::string& member, std::int32_t generation,
                                   const std::vector<std::pair<std::string, std::int32_t>>& partitions,
                                   const std::string& metadata = "") {
    OffsetCommitRequest r;
    r.group_id = group;
    r.member_id = member;
    r.generation_id_or_member_epoch = generation;
    for (const auto& [topic, p] : partitions) {
      if (r.topics.empty() || r.topics.back().name != topic) r.topics.emplace_back().name = topic;
      auto& part = r.topics.back().partitions.emplace_back();
      part.partition_index = p;
      part.committed_offset = 1;
      part.committed_metadata = metadata;
    }
    std::vector<std::int16_t> errors;
    if (auto response = client.call<OffsetCommitResponse>(r, 7)) {
      for (const auto& t : response->topics) {
        for (const auto& p : t.partitions) errors.push_back(p.error_code);
      }
    }
    return errors;
  }

  static BrokerProcess* broker_;
  GroupRawClient client;
};

BrokerProcess* GroupProtocolErrors::broker_ = nullptr;

TEST_F(GroupProtocolErrors, WrongGenerationAndUnknownMember) {
  const auto m = stable_member("gen-checks");
  EXPECT_EQ(heartbeat("gen-checks", m.id, m.generation), kNone);
  EXPECT_EQ(heartbeat("gen-checks", m.id, m.generation + 1), kIllegalGeneration);
  EXPECT_EQ(heartbeat("gen-checks", "stranger", m.generation), kUnknownMemberId);
  EXPECT_EQ(heartbeat("no-such-group", m.id, m.generation), kUnknownMemberId);

  EXPECT_EQ(commit("gen-checks", m.id, m.generation + 5, {{kTopic, 0}}), std::vector<std::int16_t>{kIllegalGeneration});
  EXPECT_EQ(commit("gen-checks", "stranger", m.generation, {{kTopic, 0}}), std::vector<std::int16_t>{kUnknownMemberId});
  EXPECT_EQ(commit("gen-checks", m.id, m.generation, {{kTopic, 0}}), std::vector<std::int16_t>{kNone});

  SyncGroupRequest sync;
  sync.group_id = "gen-checks";
  sync.generation_id = m.generation - 1;
  sync.member_id = m.id;
  EXPECT_EQ(client.call<SyncGroupResponse>(sync, 3)->error_code, kIllegalGeneration);
  auto unknown_join = client.call<JoinGroupResponse>(join_request("gen-checks", "bogus"), 5);
  EXPECT_EQ(unknown_join->error_code, kUnknownMemberId);

  LeaveGroupRequest leave_v1;
  leave_v1.group_id = "gen-checks";
  leave_v1.member_id = "stranger";
  EXPECT_EQ(client.call<LeaveGroupResponse>(leave_v1, 1)->error_code, kUnknownMemberId);
  LeaveGroupRequest leave_v3;
  leave_v3.group_id = "gen-checks";
  leave_v3.members.push_back({"stranger", std::nullopt, std::nullopt});
  leave_v3.members.push_back({m.id, std::nullopt, std::nullopt});
  auto left = client.call<LeaveGroupResponse>(leave_v3, 3);
  ASSERT_TRUE(left && left->members.size() == 2);
  EXPECT_EQ(left->error_code, kNone);
  EXPECT_EQ(left->members[0].error_code, kUnknownMemberId);
  EXPECT_EQ(left->members[1].error_code, kNone);
  EXPECT_EQ(heartbeat("gen-checks", m.id, m.generation), kUnknownMemberId) << "the member has left";
}

TEST_F(GroupProtocolErrors, CommitsForMissingTopicsOrPartitionsFailPerPartition) {
  EXPECT_EQ(commit("simple-commits", "", -1, {{kTopic, 0}, {kTopic, 99}, {"no-such-topic", 0}}),
            (std::vector<std::int16_t>{kNone, kUnknownTopicOrPartition, kUnknownTopicOrPartition}));
  EXPECT_EQ(commit("simple-commits", "", -1, {{kTopic, 1}}, std::string(4097, 'm')),
            std::vector<std::int16_t>{kOffsetMetadataTooLarge});
  OffsetFetchRequest fetch;
  fetch.group_id = "simple-commits";
  fetch.topics = std::vector<OffsetFetchRequest::OffsetFetchRequestTopic>{{kTopic, {0, 1}}};
  auto fetched = client.call<OffsetFetchResponse>(fetch, 1);
  ASSERT_TRUE(fetched && fetched->topics.size() == 1 && fetched->topics[0].partitions.size() == 2);
  EXPECT_EQ(fetched->topics[0].partitions[0].committed_offset, 1);
  EXPECT_EQ(fetched->topics[0].partitions[1].committed_offset, -1);
}

TEST_F(GroupProtocolErrors, EmptyGroupIdIsInvalidExceptForOffsetCommitAndFetch) {
  EXPECT_EQ(client.call<JoinGroupResponse>(join_request("", ""), 5)->error_code, kInvalidGroupId);
  SyncGroupRequest sync;
  sync.member_id = "m";
  EXPECT_EQ(client.call<SyncGroupResponse>(sync, 3)->error_code, kInvalidGroupId);
  EXPECT_EQ(heartbeat("", "m", 1), kInvalidGroupId);
  LeaveGroupRequest leave;
  leave.members.push_back({"m", std::nullopt, std::nullopt});
  EXPECT_EQ(client.call<LeaveGroupResponse>(leave, 3)->error_code, kInvalidGroupId);
  OffsetDeleteRequest offset_delete;
  EXPECT_EQ(client.call<OffsetDeleteResponse>(offset_delete, 0)->error_code, kInvalidGroupId);
  // Kafka keeps accepting offsets for the empty group id (old simple consumers).
  EXPECT_EQ(commit("", "", -1, {{kTopic, 2}}), std::vector<std::int16_t>{kNone});
  OffsetFetchRequest fetch;
  fetch.topics = std::nullopt;  // all partitions (v2+)
  auto fetched = client.call<OffsetFetchResponse>(fetch, 3);
  ASSERT_TRUE(fetched && fetched->topics.size() == 1);
  EXPECT_EQ(fetched->topics[0].partitions[0].partition_index, 2);
}

TEST_F(GroupProtocolErrors, LongestGroupIdWorksAndALongerOneIsUnparseable) {
  // Kafka has no group id limit of its own; a string field holds at most 32767 bytes.
  const std::string longest(32767, 'g');
  auto join = client.call<JoinGroupResponse>(join_request(longest, ""), 5);
  EXPECT_EQ(join->error_code, kMemberIdRequired);
  EXPECT_EQ(commit(longest, "", -1, {{kTopic, 0}}), std::vector<std::int16_t>{kNone});

  // 40000 bytes only fit a compact (flexible) string; Kafka cannot parse such a
  // request and closes the connection, and so does Runnel.
  WireWriter body;
  body.compact_string(std::string(40000, 'g')).i32(10000).i32(10000).compact_string("").uvarint(0);
  body.compact_string("consumer").uvarint(2).compact_string("range").uvarint(1).empty_tagged_fields();
  body.empty_tagged_fields();
  WireWriter frame;
  WireWriter header;
  header.i16(11).i16(6).i32(99).string("runnel-it").empty_tagged_fields();
  frame.i32(static_cast<std::int32_t>(header.size() + body.size())).raw(header.data()).raw(body.data());
  RawConnection raw;
  ASSERT_TRUE(raw.connect(broker_->port()));
  ASSERT_TRUE(raw.send(frame.data()));
  EXPECT_TRUE(raw.wait_closed(std::chrono::seconds(10)));
  EXPECT_EQ(heartbeat("still-serving", "m", 1), kUnknownMemberId) << "other connections are unaffected";
}

TEST_F(GroupProtocolErrors, SessionTimeoutsAndProtocolsAreChecked) {
  auto request = join_request("timeouts", "");
  request.session_timeout_ms = 100;  // below group.min.session.timeout.ms
  EXPECT_EQ(client.call<JoinGroupResponse>(request, 5)->error_code, kInvalidSessionTimeout);
  request.session_timeout_ms = 1800001;  // above group.max.session.timeout.ms
  EXPECT_EQ(client.call<JoinGroupResponse>(request, 5)->error_code, kInvalidSessionTimeout);

  const auto m = stable_member("protocols");
  auto other_type = join_request("protocols", "");
  other_type.protocol_type = "connect";
  EXPECT_EQ(client.call<JoinGroupResponse>(other_type, 5)->error_code, kInconsistentGroupProtocol);
  SyncGroupRequest sync;
  sync.group_id = "protocols";
  sync.generation_id = m.generation;
  sync.member_id = m.id;
  sync.protocol_type = "consumer";
  sync.protocol_name = "roundrobin";
  EXPECT_EQ(client.call<SyncGroupResponse>(sync, 5)->error_code, kInconsistentGroupProtocol);
  sync.protocol_name = "range";
  auto ok = client.call<SyncGroupResponse>(sync, 5);
  EXPECT_EQ(ok->error_code, kNone);
  EXPECT_EQ(ok->protocol_name, "range");
  EXPECT_EQ(ok->assignment, (std::vector<std::uint8_t>{0, 1, 2}));
}

TEST_F(GroupProtocolErrors, FindCoordinatorAnswersWithThisBrokerForEveryGroup) {
  for (std::int16_t version = 0; version <= 3; ++version) {
    FindCoordinatorRequest r;
    r.key = "some-group";
    auto response = client.call<FindCoordinatorResponse>(r, version);
    EXPECT_EQ(response->error_code, kNone) << "v" << version;
    EXPECT_EQ(response->host, "127.0.0.1");
    EXPECT_EQ(response->port, broker_->port());
  }
  FindCoordinatorRequest batched;
  batched.coordinator_keys = {"a", "b", ""};
  auto response = client.call<FindCoordinatorResponse>(batched, 4);
  ASSERT_EQ(response->coordinators.size(), 3u);
  for (const auto& c : response->coordinators) {
    EXPECT_EQ(c.error_code, kNone);
    EXPECT_EQ(c.node_id, 0);
    EXPECT_EQ(c.port, broker_->port());
  }
  EXPECT_EQ(response->coordinators[1].key, "b");
  FindCoordinatorRequest transactional;
  transactional.key = "txn";
  transactional.key_type = 1;
  EXPECT_EQ(client.call<FindCoordinatorResponse>(transactional, 3)->error_code, kCoordinatorNotAvailable);
}

TEST_F(GroupProtocolErrors, OffsetsTopicIsInternalAndRefusesProducers) {
  MetadataRequest metadata;
  metadata.topics = std::vector<MetadataRequest::MetadataRequestTopic>{{{}, std::string("__consumer_offsets")}};
  auto response = client.call<MetadataResponse>(metadata, 9);
  ASSERT_TRUE(response && response->topics.size() == 1);
  EXPECT_TRUE(response->topics[0].is_internal);
  EXPECT_EQ(response->topics[0].partitions.size(), 50u) << "offsets.topic.num.partitions defaults to 50";

  Producer producer(broker_->bootstrap(), {{"linger.ms", "0"}, {"message.timeout.ms", "10000"}});
  ASSERT_EQ(producer.produce("__consumer_offsets", 0, TestRecord{"k", "v", {}}, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
  producer.flush(std::chrono::seconds(20));
  auto deliveries = producer.deliveries();
  ASSERT_EQ(deliveries.size(), 1u);
  EXPECT_EQ(deliveries[0].err, RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION);
  static_assert(RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION == kInvalidTopic);
}

TEST_F(GroupProtocolErrors, ListDescribeAndDeleteGroups) {
  const auto m = stable_member("admin-stable");
  EXPECT_EQ(commit("admin-empty", "", -1, {{kTopic, 0}}), std::vector<std::int16_t>{kNone});

  ListGroupsRequest list;
  list.states_filter = {"Stable"};
  auto listed = client.call<ListGroupsResponse>(list, 4);
  bool found_stable = false;
  for (const auto& g : listed->groups) {
    EXPECT_EQ(g.group_state, "Stable");
    found_stable |= g.group_id == "admin-stable";
  }
  EXPECT_TRUE(found_stable);

  DescribeGroupsRequest describe;
  describe.groups = {"admin-stable", "admin-missing"};
  auto described = client.call<DescribeGroupsResponse>(describe, 5);
  ASSERT_EQ(described->groups.size(), 2u);
  EXPECT_EQ(described->groups[0].group_state, "Stable");
  EXPECT_EQ(described->groups[0].protocol_type, "consumer");
  EXPECT_EQ(described->groups[0].protocol_data, "range");
  ASSERT_EQ(described->groups[0].members.size(), 1u);
  EXPECT_EQ(described->groups[0].members[0].member_id, m.id);
  EXPECT_EQ(described->groups[0].members[0].client_id, "runnel-it");
  EXPECT_EQ(described->groups[0].members[0].member_assignment, (std::vector<std::uint8_t>{0, 1, 2}));
  EXPECT_EQ(described->groups[1].group_state, "Dead");

  OffsetFetchRequest fetch;  // v8: several groups in one request
  fetch.groups.push_back({"admin-empty", std::nullopt});
  fetch.groups.push_back({"admin-missing", std::nullopt});
  auto fetched = client.call<OffsetFetchResponse>(fetch, 8);
  ASSERT_EQ(fetched->groups.size(), 2u);
  ASSERT_EQ(fetched->groups[0].topics.size(), 1u);
  EXPECT_EQ(fetched->groups[0].topics[0].partitions[0].committed_offset, 1);
  EXPECT_TRUE(fetched->groups[1].topics.empty());

  DeleteGroupsRequest remove;
  remove.groups_names = {"admin-stable", "admin-empty", "admin-missing"};
  auto removed = client.call<DeleteGroupsResponse>(remove, 2);
  ASSERT_EQ(removed->results.size(), 3u);
  EXPECT_EQ(removed->results[0].error_code, kNonEmptyGroup);
  EXPECT_EQ(removed->results[1].error_code, kNone);
  EXPECT_EQ(removed->results[2].error_code, kGroupIdNotFound);
  auto after = client.call<OffsetFetchResponse>(fetch, 8);
  EXPECT_TRUE(after->groups[0].topics.empty()) << "a deleted group's offsets are gone";
}

}  // namespace
}  // namespace runnel::it
