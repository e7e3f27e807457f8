// Exact bytes, worked out by hand from the Kafka protocol guide, for requests
// and responses as real clients send and expect them.
#include <gtest/gtest.h>

#include <string_view>

#include "protocol/framing.h"
#include "protocol/messages.h"

namespace runnel::protocol {
namespace {

using Bytes = std::vector<uint8_t>;

// Appends the characters of `text` to `bytes`.
Bytes& operator<<(Bytes& bytes, std::string_view text) {
  bytes.insert(bytes.end(), text.begin(), text.end());
  return bytes;
}
Bytes& operator<<(Bytes& bytes, std::initializer_list<uint8_t> raw) {
  bytes.insert(bytes.end(), raw.begin(), raw.end());
  return bytes;
}

// Hex text, so that a mismatch shows where the bytes differ.
std::string hex(const Bytes& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
    out += ' ';
  }
  return out;
}

template <typename Message>
Bytes body_bytes(const Message& message, int16_t version) {
  Bytes out;
  Writer w(out);
  message.encode(w, version);
  return out;
}

TEST(Golden, ApiVersionsV3RequestAsLibrdkafkaSendsIt) {
  Bytes expected;
  expected << std::initializer_list<uint8_t>{0, 0, 0, 36}  // frame size
           << std::initializer_list<uint8_t>{0x00, 0x12, 0x00, 0x03, 0, 0, 0, 1}  // key 18, v3, correlation 1
           << std::initializer_list<uint8_t>{0x00, 0x07} << "rdkafka"             // client_id: classic string
           << std::initializer_list<uint8_t>{0x00}                                // header tagged fields
           << std::initializer_list<uint8_t>{0x0b} << "librdkafka"                // compact string, length+1
           << std::initializer_list<uint8_t>{0x06} << "2.0.2"
           << std::initializer_list<uint8_t>{0x00};                               // body tagged fields

  ApiVersionsRequest request;
  request.client_software_name = "librdkafka";
  request.client_software_version = "2.0.2";
  Bytes frame;
  encode_request_frame(frame, 1, "rdkafka", 3, request);
  EXPECT_EQ(hex(frame), hex(expected));

  Reader r(std::span<const uint8_t>(expected).subspan(4));
  const RequestHeader header = decode_request_header(r);
  EXPECT_EQ(header.request_api_key, 18);
  EXPECT_EQ(header.request_api_version, 3);
  EXPECT_EQ(header.correlation_id, 1);
  EXPECT_EQ(header.client_id, "rdkafka");
  ApiVersionsRequest decoded;
  decoded.decode(r, header.request_api_version);
  EXPECT_EQ(decoded, request);
  EXPECT_TRUE(r.at_end());
}

TEST(Golden, ApiVersionsV0ErrorResponseForUnsupportedVersion) {
  ApiVersionsResponse response;
  response.error_code = 35;  // UNSUPPORTED_VERSION
  response.api_keys.push_back({18, 0, 3});
  Bytes frame;
  encode_response_frame(frame, 5, 0, response);
  const Bytes expected{0, 0, 0, 16,         // size
                       0, 0, 0, 5,          // response header v0: correlation id
                       0, 35,               // error_code
                       0, 0, 0, 1,          // api_keys: classic array of 1
                       0, 18, 0, 0, 0, 3};  // key, min, max
  EXPECT_EQ(hex(frame), hex(expected));
}

TEST(Golden, ApiVersionsV3ResponseUsesHeaderV0ButFlexibleBody) {
  ApiVersionsResponse response;
  response.api_keys.push_back({18, 0, 3});
  Bytes frame;
  encode_response_frame(frame, 5, 3, response);
  const Bytes expected{0, 0, 0, 19,
                       0, 0, 0, 5,              // header v0: no tagged fields even though v3 is flexible
                       0, 0,                    // error_code
                       0x02,                    // compact array of 1
                       0, 18, 0, 0, 0, 3, 0x00, // element + its tagged fields
                       0, 0, 0, 0,              // throttle_time_ms
                       0x00};                   // tagged fields (all at default, so none written)
  EXPECT_EQ(hex(frame), hex(expected));
}

TEST(Golden, ProduceV9Request) {
  const Bytes records{0xaa, 0xbb, 0xcc};
  ProduceRequest request;
  request.acks = -1;
  request.timeout_ms = 30000;
  auto& topic = request.topic_data.emplace_back();
  topic.name = "t";
  topic.partition_data.push_back({0, RecordsView::of(records)});

  Bytes expected{0, 0, 0, 0};  // size, patched below
  expected << std::initializer_list<uint8_t>{0x00, 0x00, 0x00, 0x09, 0, 0, 0, 7, 0x00, 0x01} << "c"
           << std::initializer_list<uint8_t>{0x00}        // header v2 tagged fields
           << std::initializer_list<uint8_t>{0x00}        // transactional_id: compact null
           << std::initializer_list<uint8_t>{0xff, 0xff}  // acks -1
           << std::initializer_list<uint8_t>{0x00, 0x00, 0x75, 0x30}  // timeout 30000
           << std::initializer_list<uint8_t>{0x02, 0x02} << "t"      // 1 topic, name "t"
           << std::initializer_list<uint8_t>{0x02, 0, 0, 0, 0}       // 1 partition, index 0
           << std::initializer_list<uint8_t>{0x04, 0xaa, 0xbb, 0xcc} // compact records
           << std::initializer_list<uint8_t>{0x00, 0x00, 0x00};      // partition, topic, request tags
  expected[3] = static_cast<uint8_t>(expected.size() - 4);

  Bytes frame;
  encode_request_frame(frame, 7, "c", 9, request);
  EXPECT_EQ(hex(frame), hex(expected));

  Reader r(std::span<const uint8_t>(frame).subspan(4));
  const RequestHeader header = decode_request_header(r);
  ProduceRequest decoded;
  decoded.decode(r, header.request_api_version);
  EXPECT_EQ(decoded, request);
  // Zero copy: the records view points into the frame.
  EXPECT_EQ(decoded.topic_data[0].partition_data[0].records.data, frame.data() + frame.size() - 6);
}

TEST(Golden, ProduceV3RequestUsesClassicEncodings) {
  const Bytes records{0xaa};
  ProduceRequest request;
  request.acks = 1;
  request.timeout_ms = 1000;
  request.topic_data.push_back({"t", {{2, RecordsView::of(records)}}});
  const Bytes expected{0xff, 0xff,              // transactional_id null (int16 -1)
                       0x00, 0x01,              // acks
                       0x00, 0x00, 0x03, 0xe8,  // timeout
                       0, 0, 0, 1, 0, 1, 't',   // 1 topic "t"
                       0, 0, 0, 1, 0, 0, 0, 2,  // 1 partition, index 2
                       0, 0, 0, 1, 0xaa};       // records
  EXPECT_EQ(hex(body_bytes(request, 3)), hex(expected));
}

TEST(Golden, FetchV12ResponseWithDivergingEpochTaggedField) {
  FetchResponse response;
  auto& topic = response.responses.emplace_back();
  topic.topic = "t";
  auto& partition = topic.partitions.emplace_back();
  partition.high_watermark = 10;
  partition.diverging_epoch.epoch = 5;
  partition.diverging_epoch.end_offset = 100;

  Bytes expected{0, 0, 0, 0,   // throttle_time_ms
                 0, 0,         // error_code
                 0, 0, 0, 0,   // session_id
                 0x02, 0x02, 't',  // 1 topic "t"
                 0x02,         // 1 partition
                 0, 0, 0, 0,   // partition_index
                 0, 0,         // error_code
                 0, 0, 0, 0, 0, 0, 0, 10};  // high_watermark
  expected.insert(expected.end(), 16, 0xff);  // last_stable_offset, log_start_offset = -1
  expected << std::initializer_list<uint8_t>{0x01,                 // aborted_transactions: empty
                                             0xff, 0xff, 0xff, 0xff,  // preferred_read_replica -1
                                             0x00,                 // records: null
                                             0x01, 0x00, 0x0d,     // 1 tagged field: tag 0, 13 bytes
                                             0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 100, 0x00,
                                             0x00,                 // topic tagged fields
                                             0x00};                // response tagged fields
  EXPECT_EQ(hex(body_bytes(response, 12)), hex(expected));

  Reader r(expected);
  FetchResponse decoded;
  decoded.decode(r, 12);
  EXPECT_EQ(decoded, response);
}

TEST(Golden, UnknownTaggedFieldsInARequestAreSkipped) {
  // FetchRequest v12 with an unknown tag 5 (3 bytes) before the known cluster_id (tag 0).
  FetchRequest plain;
  plain.max_wait_ms = 500;
  Bytes bytes = body_bytes(plain, 12);
  ASSERT_EQ(bytes.back(), 0x00);  // empty tagged section
  bytes.pop_back();
  bytes << std::initializer_list<uint8_t>{0x02, 0x05, 0x03, 1, 2, 3, 0x00, 0x03, 0x03} << "c1";
  Reader r(bytes);
  FetchRequest decoded;
  decoded.decode(r, 12);
  EXPECT_TRUE(r.at_end());
  EXPECT_EQ(decoded.max_wait_ms, 500);
  EXPECT_EQ(decoded.cluster_id, "c1");
}

TEST(Golden, MetadataRequestNullTopicsMeansAllTopics) {
  MetadataRequest request;
  request.topics = std::nullopt;
  EXPECT_EQ(body_bytes(request, 1), (Bytes{0xff, 0xff, 0xff, 0xff}));
  EXPECT_EQ(body_bytes(request, 9), (Bytes{0x00, 0x01, 0x00, 0x00, 0x00}));  // null, auto-create, 2 bools, tags
  EXPECT_THROW(body_bytes(request, 0), EncodeError);  // v0 cannot say "all topics" with null
  MetadataRequest all_in_v0;
  EXPECT_EQ(body_bytes(all_in_v0, 0), (Bytes{0, 0, 0, 0}));
}

TEST(Golden, FieldsAbsentInAVersionAreDroppedAndDecodeToDefaults) {
  ListOffsetsResponse response;
  auto& partition = response.topics.emplace_back().partitions.emplace_back();
  partition.old_style_offsets = {42};
  partition.offset = 7;
  ListOffsetsResponse decoded;
  const Bytes v1 = body_bytes(response, 1);
  Reader r(v1);
  decoded.decode(r, 1);
  EXPECT_TRUE(decoded.topics[0].partitions[0].old_style_offsets.empty());  // v0 only
  EXPECT_EQ(decoded.topics[0].partitions[0].offset, 7);
  EXPECT_EQ(decoded.topics[0].partitions[0].leader_epoch, -1);  // v4+, default
}

TEST(Golden, VersionsOutsideTheDefinedRangeAreRefused) {
  ProduceRequest request;
  EXPECT_THROW(body_bytes(request, -1), EncodeError);
  EXPECT_THROW(body_bytes(request, 11), EncodeError);
  const Bytes empty;
  Reader r(empty);
  EXPECT_THROW(request.decode(r, 11), DecodeError);
}

}  // namespace
}  // namespace runnel::protocol
