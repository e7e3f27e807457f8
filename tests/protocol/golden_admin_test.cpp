// Exact bytes for group, admin and no-flexible/always-flexible APIs, worked
// out by hand from the Kafka protocol guide.
#include <gtest/gtest.h>

#include "protocol/api_info.h"
#include "protocol/messages.h"

namespace runnel::protocol {
namespace {

using Bytes = std::vector<uint8_t>;

template <typename Message>
Bytes body_bytes(const Message& message, int16_t version) {
  Bytes out;
  Writer w(out);
  message.encode(w, version);
  return out;
}

template <typename Message>
Message decoded_from(const Bytes& bytes, int16_t version) {
  Message message;
  Reader r(bytes);
  message.decode(r, version);
  EXPECT_TRUE(r.at_end());
  return message;
}

TEST(GoldenGroups, JoinGroupV6RequestUsesCompactStringsAndBytes) {
  JoinGroupRequest request;
  request.group_id = "g";
  request.session_timeout_ms = 10000;
  request.rebalance_timeout_ms = 30000;
  request.protocol_type = "consumer";
  request.protocols.push_back({"range", Bytes{1, 2}});
  const Bytes expected{0x02, 'g',                 // group_id
                       0x00, 0x00, 0x27, 0x10,    // session_timeout_ms
                       0x00, 0x00, 0x75, 0x30,    // rebalance_timeout_ms
                       0x01,                      // member_id ""
                       0x00,                      // group_instance_id null
                       0x09, 'c', 'o', 'n', 's', 'u', 'm', 'e', 'r',
                       0x02,                      // 1 protocol
                       0x06, 'r', 'a', 'n', 'g', 'e',
                       0x03, 1, 2,                // compact bytes
                       0x00,                      // protocol tagged fields
                       0x00};                     // request tagged fields
  EXPECT_EQ(body_bytes(request, 6), expected);
  EXPECT_EQ(decoded_from<JoinGroupRequest>(expected, 6), request);
}

TEST(GoldenGroups, JoinGroupV0RequestHasNoRebalanceTimeout) {
  JoinGroupRequest request;
  request.group_id = "g";
  request.session_timeout_ms = 1;
  request.protocol_type = "c";
  const Bytes expected{0, 1, 'g', 0, 0, 0, 1, 0, 0, 0, 1, 'c', 0, 0, 0, 0};
  EXPECT_EQ(body_bytes(request, 0), expected);
  EXPECT_EQ(decoded_from<JoinGroupRequest>(expected, 0).rebalance_timeout_ms, -1);
}

TEST(GoldenGroups, OffsetDeleteHasNoFlexibleVersion) {
  OffsetDeleteRequest request;
  request.group_id = "g";
  request.topics.push_back({"t", {{3}}});
  const Bytes expected{0, 1, 'g', 0, 0, 0, 1, 0, 1, 't', 0, 0, 0, 1, 0, 0, 0, 3};
  EXPECT_EQ(body_bytes(request, 0), expected);
  EXPECT_EQ(api_info(ApiKey::kOffsetDelete)->first_flexible_version, std::numeric_limits<int16_t>::max());
  EXPECT_EQ(request_header_version(47, 0), 1);
  EXPECT_EQ(response_header_version(47, 0), 0);
}

TEST(GoldenAdmin, DescribeClusterIsFlexibleFromV0) {
  EXPECT_EQ(request_header_version(60, 0), 2);
  EXPECT_EQ(response_header_version(60, 0), 1);
  DescribeClusterRequest request;
  request.include_cluster_authorized_operations = true;
  EXPECT_EQ(body_bytes(request, 0), (Bytes{0x01, 0x00}));
  EXPECT_EQ(body_bytes(request, 1), (Bytes{0x01, 0x01, 0x00}));  // endpoint_type defaults to 1
}

TEST(GoldenAdmin, FindCoordinatorV4BatchesKeys) {
  FindCoordinatorRequest request;
  request.key = "ignored in v4";
  request.coordinator_keys = {"a", "b"};
  EXPECT_EQ(body_bytes(request, 4), (Bytes{0x00, 0x03, 0x02, 'a', 0x02, 'b', 0x00}));
  FindCoordinatorRequest v0;
  v0.key = "a";
  EXPECT_EQ(body_bytes(v0, 0), (Bytes{0, 1, 'a'}));
}

TEST(GoldenAdmin, CreateTopicsV5ResponseWritesNonDefaultTaggedField) {
  CreateTopicsResponse response;
  auto& topic = response.topics.emplace_back();
  topic.name = "t";
  topic.error_message = std::nullopt;
  topic.num_partitions = 3;
  topic.replication_factor = 1;
  topic.topic_config_error_code = 42;
  const Bytes expected{0, 0, 0, 0,         // throttle_time_ms
                       0x02, 0x02, 't',    // 1 topic "t"
                       0x00, 0x00,         // error_code
                       0x00,               // error_message null
                       0, 0, 0, 3,         // num_partitions
                       0, 1,               // replication_factor
                       0x01,               // configs: empty
                       0x01, 0x00, 0x02, 0x00, 0x2a,  // tag 0: topic_config_error_code 42
                       0x00};              // response tagged fields
  EXPECT_EQ(body_bytes(response, 5), expected);
  EXPECT_EQ(decoded_from<CreateTopicsResponse>(expected, 5), response);
}

TEST(GoldenAdmin, DeleteTopicsV6ByTopicId) {
  DeleteTopicsRequest request;
  auto& topic = request.topics.emplace_back();
  topic.topic_id.bytes[15] = 7;
  request.timeout_ms = 5;
  Bytes expected{0x02, 0x00};  // 1 topic, name null
  expected.insert(expected.end(), 15, 0);
  expected.insert(expected.end(), {7, 0x00, 0, 0, 0, 5, 0x00});
  EXPECT_EQ(body_bytes(request, 6), expected);
  EXPECT_EQ(decoded_from<DeleteTopicsRequest>(expected, 6), request);
}

}  // namespace
}  // namespace runnel::protocol
