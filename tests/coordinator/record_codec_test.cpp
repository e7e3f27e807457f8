// Byte-exact checks of what the coordinator writes to __consumer_offsets: the
// RecordBatch v2 framing, Kafka's key/value layouts, and the group -> partition hash.
#include <gtest/gtest.h>

#include "coordinator/consumer_protocol.h"
#include "coordinator/group_partitioner.h"
#include "coordinator/group_records.h"
#include "coordinator/record_batch_codec.h"
#include "protocol/wire.h"
#include "storage/crc32c.h"
#include "storage/record_batch.h"

namespace runnel::coordinator {
namespace {

Bytes b(const std::string& s) { return Bytes(s.begin(), s.end()); }

Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

TEST(RecordBatchCodec, OneRecordBatchMatchesHandCheckedBytes) {
  const LogRecord record{b("k"), b("v")};
  const Bytes batch = build_record_batch(std::span<const LogRecord>(&record, 1), 1000);
  Bytes expected = {
      0, 0, 0, 0, 0, 0, 0, 0,              // base offset
      0, 0, 0, 58,                         // batch length: 70 - 12
      0, 0, 0, 0,                          // partition leader epoch
      2,                                   // magic
      0, 0, 0, 0,                          // crc (filled below)
      0, 0,                                // attributes
      0, 0, 0, 0,                          // last offset delta
      0, 0, 0, 0, 0, 0, 0x03, 0xE8,        // base timestamp
      0, 0, 0, 0, 0, 0, 0x03, 0xE8,        // max timestamp
      0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,  // producer id -1
      0xFF, 0xFF,                          // producer epoch -1
      0xFF, 0xFF, 0xFF, 0xFF,              // base sequence -1
      0, 0, 0, 1,                          // record count
      // record: length 8 (zigzag 16), attributes, ts delta, offset delta,
      // key length 1 (zigzag 2) "k", value length 1 "v", no headers
      0x10, 0x00, 0x00, 0x00, 0x02, 'k', 0x02, 'v', 0x00,
  };
  const uint32_t crc = storage::crc32c(std::span<const uint8_t>(expected).subspan(21));
  expected[17] = static_cast<uint8_t>(crc >> 24);
  expected[18] = static_cast<uint8_t>(crc >> 16);
  expected[19] = static_cast<uint8_t>(crc >> 8);
  expected[20] = static_cast<uint8_t>(crc);
  EXPECT_EQ(batch, expected);

  // The storage layer's own validator accepts it as a produce batch.
  EXPECT_EQ(storage::validate_batches(batch, {}).error, ErrorCode::kNone);
}

TEST(RecordBatchCodec, TombstonesAndManyRecordsRoundTrip) {
  std::vector<LogRecord> records = {{b("k1"), b("value one")}, {b("k2"), std::nullopt}, {b("k3"), Bytes{}}};
  const Bytes batch = build_record_batch(records, 42);
  const auto header = storage::parse_batch_header(batch);
  EXPECT_EQ(header.record_count, 3);
  EXPECT_EQ(header.last_offset_delta, 2);
  // The tombstone's value length is -1 (zigzag 0x01).
  const Bytes tombstone = {0x10, 0x00, 0x00, 0x02, 0x04, 'k', '2', 0x01, 0x00};
  EXPECT_NE(std::search(batch.begin(), batch.end(), tombstone.begin(), tombstone.end()), batch.end());

  const auto parsed = parse_record_batch(batch);
  ASSERT_EQ(parsed.status, ParsedBatch::Status::kOk);
  EXPECT_EQ(parsed.records, records);
  EXPECT_EQ(parsed.header.max_timestamp, 42);
}

TEST(RecordBatchCodec, CorruptCompressedAndSplitBatches) {
  const LogRecord record{b("k"), b("v")};
  Bytes batch = build_record_batch(std::span<const LogRecord>(&record, 1), 1);
  Bytes two = cat({batch, batch});
  two.push_back(0x00);  // a trailing partial batch is ignored
  EXPECT_EQ(split_batches(two).size(), 2u);

  Bytes corrupt = batch;
  corrupt.back() ^= 0xFF;
  EXPECT_EQ(parse_record_batch(corrupt).status, ParsedBatch::Status::kCorrupt);

  Bytes gzip = batch;
  storage::store_be16(gzip.data() + storage::batch_layout::kAttributes, 1);
  storage::store_be32(gzip.data() + storage::batch_layout::kCrc, static_cast<int32_t>(storage::compute_batch_crc(gzip)));
  EXPECT_EQ(parse_record_batch(gzip).status, ParsedBatch::Status::kCompressed);

  Bytes truncated_record = batch;
  truncated_record[61] = 0x7E;  // record length far beyond the batch
  storage::store_be32(truncated_record.data() + storage::batch_layout::kCrc,
                      static_cast<int32_t>(storage::compute_batch_crc(truncated_record)));
  EXPECT_EQ(parse_record_batch(truncated_record).status, ParsedBatch::Status::kCorrupt);
}

TEST(GroupRecords, OffsetCommitKeyAndValueMatchKafkaLayout) {
  EXPECT_EQ(encode_offset_commit_key({"g", "t", 1}), (Bytes{0, 1, 0, 1, 'g', 0, 1, 't', 0, 0, 0, 1}));
  const Bytes value = encode_offset_commit_value({5, -1, "m", 0x0102, -1});
  EXPECT_EQ(value, (Bytes{0, 3, 0, 0, 0, 0, 0, 0, 0, 5, 0xFF, 0xFF, 0xFF, 0xFF, 0, 1, 'm', 0, 0, 0, 0, 0, 0, 1, 2}));
  EXPECT_EQ(decode_offset_commit_value(value), (OffsetCommitValue{5, -1, "m", 0x0102, -1}));
  const auto key = decode_record_key(encode_offset_commit_key({"g", "t", 1}));
  EXPECT_EQ(std::get<OffsetCommitKey>(key), (OffsetCommitKey{"g", "t", 1}));
}

TEST(GroupRecords, GroupMetadataMatchesKafkaLayout) {
  EXPECT_EQ(encode_group_metadata_key({"g"}), (Bytes{0, 2, 0, 1, 'g'}));
  GroupMetadataValue value;
  value.protocol_type = "consumer";
  value.generation = 1;
  value.protocol = "range";
  value.leader = "m";
  value.current_state_timestamp = 5;
  value.members.push_back({"m", std::nullopt, "c", "h", 300, 100, {1, 2}, {3}});
  const Bytes expected = cat({{0, 3, 0, 8},
                              b("consumer"),
                              {0, 0, 0, 1, 0, 5},
                              b("range"),
                              {0, 1, 'm', 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 1, 0, 1, 'm', 0xFF, 0xFF, 0, 1, 'c', 0, 1, 'h',
                               0, 0, 0x01, 0x2C, 0, 0, 0, 0x64, 0, 0, 0, 2, 1, 2, 0, 0, 0, 1, 3}});
  EXPECT_EQ(encode_group_metadata_value(value), expected);
  EXPECT_EQ(decode_group_metadata_value(expected), value);
  value.members[0].group_instance_id = "instance";
  value.protocol.reset();
  EXPECT_EQ(decode_group_metadata_value(encode_group_metadata_value(value)), value);
}

TEST(GroupRecords, DecodesOlderAndFlexibleVersionsKafkaWrote) {
  // Offset value v1 carries an expire timestamp and no leader epoch.
  const Bytes v1 = {0, 1, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 8};
  EXPECT_EQ(decode_offset_commit_value(v1), (OffsetCommitValue{9, -1, "", 7, 8}));
  // Offset value v4 is flexible: compact string and a tagged-field section.
  const Bytes v4 = {0, 4, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 2, 3, 'h', 'i', 0, 0, 0, 0, 0, 0, 0, 7, 0};
  EXPECT_EQ(decode_offset_commit_value(v4), (OffsetCommitValue{9, 2, "hi", 7, -1}));
  // Group value v0: no rebalance timeout (the session timeout stands in), no timestamp.
  const Bytes g0 = cat({{0, 0, 0, 8}, b("consumer"), {0, 0, 0, 3, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 1, 0, 1, 'm', 0, 1,
                                                       'c', 0, 1, 'h', 0, 0, 0, 100, 0, 0, 0, 0, 0, 0, 0, 0}});
  const auto group = decode_group_metadata_value(g0);
  EXPECT_EQ(group.generation, 3);
  EXPECT_FALSE(group.protocol.has_value());
  ASSERT_EQ(group.members.size(), 1u);
  EXPECT_EQ(group.members[0].rebalance_timeout_ms, 100);
  EXPECT_EQ(group.current_state_timestamp, -1);
  // Unknown key versions are reported, not thrown; malformed input throws.
  EXPECT_TRUE(std::holds_alternative<UnknownKey>(decode_record_key(Bytes{0, 9, 0, 0})));
  EXPECT_TRUE(std::holds_alternative<OffsetCommitKey>(decode_record_key(Bytes{0, 0, 0, 1, 'g', 0, 1, 't', 0, 0, 0, 0})));
  EXPECT_THROW(decode_record_key(Bytes{0, 1, 0, 9, 'g'}), protocol::DecodeError);
  EXPECT_THROW(decode_offset_commit_value(Bytes{0, 7, 0}), protocol::DecodeError);
  EXPECT_THROW(decode_group_metadata_value(Bytes{0, 3, 0, 8, 'c'}), protocol::DecodeError);
}

TEST(GroupPartitioner, MatchesJavaStringHashCode) {
  EXPECT_EQ(java_string_hash(""), 0);
  EXPECT_EQ(java_string_hash("a"), 97);
  EXPECT_EQ(java_string_hash("abc"), 96354);
  EXPECT_EQ(java_string_hash("Aa"), java_string_hash("BB"));
  EXPECT_EQ(java_string_hash("hello"), 99162322);
  EXPECT_EQ(java_string_hash("\xC3\xA9"), 233);                  // U+00E9, two UTF-8 bytes
  EXPECT_EQ(java_string_hash("\xF0\x9F\x98\x80"), 1772899);       // U+1F600: a surrogate pair in Java
  EXPECT_EQ(java_string_hash("\xFF"), 0xFFFD);                     // malformed: U+FFFD
  EXPECT_EQ(java_string_hash("runnel-it-group-1"), -420594620);
  EXPECT_EQ(java_string_hash("polygenelubricants"), INT32_MIN);

  EXPECT_EQ(partition_for_group("hello", 50), 22);
  EXPECT_EQ(partition_for_group("my-consumer-group", 50), 13);
  EXPECT_EQ(partition_for_group("runnel-it-group-1", 50), 20);     // abs of a negative hash
  EXPECT_EQ(partition_for_group("polygenelubricants", 50), 0);     // Utils.abs(MIN_VALUE) == 0
  EXPECT_EQ(partition_for_group("\xF0\x9F\x98\x80", 50), 49);
}

TEST(ConsumerProtocol, ParsesSubscriptionTopics) {
  Bytes v0 = {0, 0, 0, 0, 0, 2, 0, 1, 'a', 0, 2, 'b', 'c', 0xFF, 0xFF, 0xFF, 0xFF};
  EXPECT_EQ(parse_subscription_topics(v0), (std::set<std::string>{"a", "bc"}));
  EXPECT_FALSE(parse_subscription_topics(Bytes{0, 0, 0, 0, 0, 9}).has_value());
  EXPECT_FALSE(parse_subscription_topics(Bytes{}).has_value());
}

}  // namespace
}  // namespace runnel::coordinator
