// Exact bytes for the inter-broker APIs (AlterPartition, ControlledShutdown)
// and Produce v10's leader hints, worked out by hand from the field layout of
// Kafka's message definitions.
#include <gtest/gtest.h>

#include "protocol/framing.h"
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

Uuid topic_id_ending_in(uint8_t last) {
  Uuid id;
  id.bytes[15] = last;
  return id;
}

Bytes& append(Bytes& bytes, std::initializer_list<uint8_t> raw) {
  bytes.insert(bytes.end(), raw.begin(), raw.end());
  return bytes;
}

Bytes& append_uuid_ending_in(Bytes& bytes, uint8_t last) {
  bytes.insert(bytes.end(), 15, 0);
  bytes.push_back(last);
  return bytes;
}

TEST(GoldenReplication, AlterPartitionV2RequestNamesTopicsById) {
  AlterPartitionRequest request;
  request.broker_id = 1;
  request.broker_epoch = 5;
  auto& topic = request.topics.emplace_back();
  topic.topic_name = "ignored in v2";
  topic.topic_id = topic_id_ending_in(9);
  auto& partition = topic.partitions.emplace_back();
  partition.partition_index = 0;
  partition.leader_epoch = 3;
  partition.new_isr = {1, 2};
  partition.partition_epoch = 7;

  Bytes expected;
  append(expected, {0, 0, 0, 1,                // broker_id
                    0, 0, 0, 0, 0, 0, 0, 5,    // broker_epoch
                    0x02});                    // 1 topic (compact)
  append_uuid_ending_in(expected, 9);          // topic_id (no topic_name in v2)
  append(expected, {0x02,                      // 1 partition
                    0, 0, 0, 0,                // partition_index
                    0, 0, 0, 3,                // leader_epoch
                    0x03, 0, 0, 0, 1, 0, 0, 0, 2,  // new_isr [1, 2]
                    0x00,                      // leader_recovery_state
                    0, 0, 0, 7,                // partition_epoch
                    0x00,                      // partition tagged fields
                    0x00,                      // topic tagged fields
                    0x00});                    // request tagged fields
  EXPECT_EQ(body_bytes(request, 2), expected);

  AlterPartitionRequest decoded = decoded_from<AlterPartitionRequest>(expected, 2);
  EXPECT_EQ(decoded.topics.at(0).topic_name, "");  // not on the wire in v2
  decoded.topics.at(0).topic_name = request.topics[0].topic_name;
  EXPECT_EQ(decoded, request);
}

TEST(GoldenReplication, AlterPartitionV2Response) {
  AlterPartitionResponse response;
  auto& topic = response.topics.emplace_back();
  topic.topic_id = topic_id_ending_in(9);
  auto& partition = topic.partitions.emplace_back();
  partition.partition_index = 0;
  partition.leader_id = 1;
  partition.leader_epoch = 3;
  partition.isr = {1, 2};
  partition.partition_epoch = 8;

  Bytes expected;
  append(expected, {0, 0, 0, 0,   // throttle_time_ms
                    0, 0,         // error_code
                    0x02});       // 1 topic
  append_uuid_ending_in(expected, 9);
  append(expected, {0x02,                          // 1 partition
                    0, 0, 0, 0,                    // partition_index
                    0, 0,                          // error_code
                    0, 0, 0, 1,                    // leader_id
                    0, 0, 0, 3,                    // leader_epoch
                    0x03, 0, 0, 0, 1, 0, 0, 0, 2,  // isr [1, 2]
                    0x00,                          // leader_recovery_state
                    0, 0, 0, 8,                    // partition_epoch
                    0x00, 0x00, 0x00});            // partition, topic, response tagged fields
  EXPECT_EQ(body_bytes(response, 2), expected);
  EXPECT_EQ(decoded_from<AlterPartitionResponse>(expected, 2), response);
}

TEST(GoldenReplication, AlterPartitionV3CarriesBrokerEpochsInsteadOfNewIsr) {
  AlterPartitionRequest request;
  request.broker_id = 1;
  auto& topic = request.topics.emplace_back();
  topic.topic_id = topic_id_ending_in(9);
  auto& partition = topic.partitions.emplace_back();
  partition.leader_epoch = 3;
  partition.new_isr_with_epochs.push_back({2, 6});
  partition.partition_epoch = 7;

  Bytes expected;
  append(expected, {0, 0, 0, 1,
                    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,  // broker_epoch default -1
                    0x02});
  append_uuid_ending_in(expected, 9);
  append(expected, {0x02, 0, 0, 0, 0, 0, 0, 0, 3,
                    0x02,                                      // 1 BrokerState
                    0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 6, 0x00,  // broker_id, broker_epoch, tagged fields
                    0x00, 0, 0, 0, 7, 0x00, 0x00, 0x00});
  EXPECT_EQ(body_bytes(request, 3), expected);
  EXPECT_EQ(decoded_from<AlterPartitionRequest>(expected, 3), request);
}

TEST(GoldenReplication, ControlledShutdownV3) {
  ControlledShutdownRequest request;
  request.broker_id = 2;
  request.broker_epoch = 42;
  const Bytes request_bytes{0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 42, 0x00};
  EXPECT_EQ(body_bytes(request, 3), request_bytes);
  EXPECT_EQ(decoded_from<ControlledShutdownRequest>(request_bytes, 3), request);

  ControlledShutdownResponse response;
  response.remaining_partitions.push_back({"t", 1});
  const Bytes response_bytes{0, 0,              // error_code
                             0x02,              // 1 remaining partition
                             0x02, 't',         // topic_name
                             0, 0, 0, 1,        // partition_index
                             0x00, 0x00};       // element and response tagged fields
  EXPECT_EQ(body_bytes(response, 3), response_bytes);
  EXPECT_EQ(decoded_from<ControlledShutdownResponse>(response_bytes, 3), response);
}

TEST(GoldenReplication, ControlledShutdownV0UsesRequestHeaderV0) {
  ControlledShutdownRequest request;
  request.broker_id = 2;
  request.broker_epoch = 42;  // v2+: not on the wire
  Bytes frame;
  encode_request_frame(frame, 5, "dropped", 0, request);
  const Bytes expected{0, 0, 0, 12,
                       0, 7, 0, 0, 0, 0, 0, 5,  // key 7, v0, correlation 5, no client_id
                       0, 0, 0, 2};             // broker_id
  EXPECT_EQ(frame, expected);

  Reader r(std::span<const uint8_t>(expected).subspan(4));
  const RequestHeader header = decode_request_header(r);
  EXPECT_EQ(header.correlation_id, 5);
  EXPECT_EQ(r.position(), 8u);  // no client_id was read
  ControlledShutdownRequest decoded;
  decoded.decode(r, 0);
  EXPECT_EQ(decoded.broker_id, 2);
  EXPECT_TRUE(r.at_end());
}

TEST(GoldenReplication, ProduceV10ResponseWritesLeaderHintsAsTaggedFields) {
  ProduceResponse response;
  auto& topic = response.responses.emplace_back();
  topic.name = "t";
  auto& partition = topic.partition_responses.emplace_back();
  partition.index = 0;
  partition.error_code = 6;  // NOT_LEADER_OR_FOLLOWER
  partition.base_offset = -1;
  partition.current_leader.leader_id = 2;
  partition.current_leader.leader_epoch = 5;
  auto& endpoint = response.node_endpoints.emplace_back();
  endpoint.node_id = 2;
  endpoint.host = "h";
  endpoint.port = 9092;

  Bytes expected;
  append(expected, {0x02, 0x02, 't',   // 1 topic "t"
                    0x02,              // 1 partition
                    0, 0, 0, 0,        // index
                    0, 6,              // error_code
                    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,   // base_offset -1
                    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,   // log_append_time_ms -1
                    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,   // log_start_offset -1
                    0x01,              // record_errors: empty
                    0x00,              // error_message: null
                    0x01, 0x00, 0x09,  // 1 tagged field: tag 0 (current_leader), 9 bytes
                    0, 0, 0, 2, 0, 0, 0, 5, 0x00,
                    0x00,              // topic tagged fields
                    0, 0, 0, 0,        // throttle_time_ms
                    0x01, 0x00, 0x0d,  // 1 tagged field: tag 0 (node_endpoints), 13 bytes
                    0x02, 0, 0, 0, 2, 0x02, 'h', 0, 0, 0x23, 0x84, 0x00, 0x00});  // id, host, port, rack null
  EXPECT_EQ(body_bytes(response, 10), expected);
  EXPECT_EQ(decoded_from<ProduceResponse>(expected, 10), response);

  // v9 has neither field: the same response encodes without them.
  const Bytes v9 = body_bytes(response, 9);
  EXPECT_EQ(v9.size(), expected.size() - 12 - 16 + 2);
  ProduceResponse v9_decoded = decoded_from<ProduceResponse>(v9, 9);
  EXPECT_EQ(v9_decoded.responses.at(0).partition_responses.at(0).current_leader.leader_id, -1);
  EXPECT_TRUE(v9_decoded.node_endpoints.empty());
}

}  // namespace
}  // namespace runnel::protocol
