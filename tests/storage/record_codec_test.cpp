// Record-level codec and the compression codecs.
#include "storage/record_codec.h"

#include <gtest/gtest.h>


#include "batch_builder.h"
#include "keyed_batch.h"
#include "storage/compression.h"

using namespace runnel;
using namespace runnel::storage;
using namespace runnel::testing;

namespace {
const CompressionType kCodecs[] = {CompressionType::kNone, CompressionType::kGzip, CompressionType::kSnappy,
                                   CompressionType::kLz4, CompressionType::kZstd};
}

TEST(Compression, EveryCodecRoundTrips) {
  std::vector<uint8_t> data;
  for (int i = 0; i < 200000; ++i) data.push_back(static_cast<uint8_t>((i * 7) % 13 + (i / 1000)));
  for (auto codec : kCodecs) {
    std::vector<uint8_t> packed, unpacked;
    ASSERT_TRUE(compress(codec, data, packed)) << static_cast<int>(codec);
    std::string error;
    ASSERT_TRUE(decompress(codec, packed, unpacked, &error)) << static_cast<int>(codec) << ": " << error;
    EXPECT_EQ(unpacked, data) << static_cast<int>(codec);
  }
}

TEST(Compression, SnappyIsXerialFramedAndRawIsReadToo) {
  std::vector<uint8_t> data(100000, 'x');
  std::vector<uint8_t> packed;
  ASSERT_TRUE(compress(CompressionType::kSnappy, data, packed));
  ASSERT_GT(packed.size(), 16u);
  EXPECT_EQ(packed[0], 0x82);
  EXPECT_EQ(std::string(packed.begin() + 1, packed.begin() + 7), "SNAPPY");
  // Raw snappy (what librdkafka writes) is read as well: strip the framing of a one-block stream.
  std::vector<uint8_t> small(1000, 'y'), framed, out;
  ASSERT_TRUE(compress(CompressionType::kSnappy, small, framed));
  std::vector<uint8_t> raw(framed.begin() + 20, framed.end());
  std::string error;
  ASSERT_TRUE(decompress(CompressionType::kSnappy, raw, out, &error)) << error;
  EXPECT_EQ(out, small);
}

TEST(Compression, Lz4IsTheFrameFormat) {
  std::vector<uint8_t> data(5000, 'z'), packed;
  ASSERT_TRUE(compress(CompressionType::kLz4, data, packed));
  ASSERT_GE(packed.size(), 4u);
  EXPECT_EQ(load_be32(packed.data()), static_cast<int32_t>(0x04224D18));  // frame magic 0x184D2204, little-endian
}

TEST(Compression, CorruptAndOversizedInputFailCleanly) {
  std::vector<uint8_t> data(100000, 'a');
  for (auto codec : kCodecs) {
    if (codec == CompressionType::kNone) continue;
    std::vector<uint8_t> packed, out;
    ASSERT_TRUE(compress(codec, data, packed));
    std::string error;
    EXPECT_FALSE(decompress(codec, packed, out, &error, 1000)) << static_cast<int>(codec);  // bomb guard
    std::vector<uint8_t> truncated(packed.begin(), packed.begin() + static_cast<long>(packed.size() / 2));
    out.clear();
    EXPECT_FALSE(decompress(codec, truncated, out, &error)) << static_cast<int>(codec);
  }
}

TEST(RecordCodec, DecodesTheTestBuilderBatch) {
  auto bytes = build_batch({{"k1", "v1", 0}, {std::nullopt, "v2", 5}, {"k3", std::nullopt, 9}});
  DecodedBatch batch;
  std::string error;
  ASSERT_TRUE(decode_batch(bytes, batch, &error)) << error;
  ASSERT_EQ(batch.records.size(), 3u);
  EXPECT_EQ(std::string(batch.records[0].key->begin(), batch.records[0].key->end()), "k1");
  EXPECT_FALSE(batch.records[1].key.has_value());
  EXPECT_FALSE(batch.records[2].value.has_value());
  EXPECT_EQ(batch.records[2].timestamp, 1009);
  EXPECT_EQ(batch.records[2].offset, 2);
  int32_t index = -2;
  ASSERT_TRUE(find_record_without_key(bytes, index, &error));
  EXPECT_EQ(index, 1);
}

TEST(RecordCodec, ReencodingASubsetKeepsOffsetsAndProducerFields) {
  for (auto codec : kCodecs) {
    KeyedBatchSpec spec;
    spec.codec = codec;
    spec.producer_id = 11;
    spec.producer_epoch = 2;
    spec.base_sequence = 40;
    auto bytes = keyed_batch({{"a", "1"}, {"b", "2"}, {"c", std::nullopt}, {"d", "4"}}, spec);
    DecodedBatch batch;
    std::string error;
    ASSERT_TRUE(decode_batch(bytes, batch, &error)) << error;
    std::vector<RecordView> kept{batch.records[1], batch.records[2]};
    std::vector<uint8_t> out;
    ASSERT_TRUE(encode_batch(batch.header, kept, 99'000, out));
    auto h = parse_batch_header(out);
    EXPECT_EQ(compute_batch_crc(out), h.crc);
    EXPECT_EQ(h.compression(), static_cast<int>(codec));
    EXPECT_EQ(h.last_offset_delta, 3);
    EXPECT_EQ(h.record_count, 2);
    EXPECT_EQ(h.producer_id, 11);
    EXPECT_EQ(h.base_sequence, 40);
    EXPECT_EQ(last_sequence(h), 43);
    EXPECT_EQ(delete_horizon_ms(h), 99'000);
    DecodedBatch again;
    ASSERT_TRUE(decode_batch(out, again, &error)) << error;
    ASSERT_EQ(again.records.size(), 2u);
    EXPECT_EQ(again.records[0].offset, 1);
    EXPECT_EQ(again.records[1].offset, 2);
    EXPECT_EQ(again.records[0].timestamp, 1000);  // record timestamps survive the horizon base
    EXPECT_FALSE(again.records[1].value.has_value());
  }
}

TEST(RecordCodec, EmptyBatchKeepsTheOffsetRange) {
  auto bytes = keyed_batch({{"a", "1"}, {"b", "2"}}, {CompressionType::kZstd, 1000, 3, 0, 7});
  DecodedBatch batch;
  ASSERT_TRUE(decode_batch(bytes, batch, nullptr));
  std::vector<uint8_t> out;
  ASSERT_TRUE(encode_batch(batch.header, {}, -1, out));
  auto h = parse_batch_header(out);
  EXPECT_EQ(h.record_count, 0);
  EXPECT_EQ(h.last_offset_delta, 1);
  EXPECT_EQ(h.compression(), 0);
  EXPECT_EQ(last_sequence(h), 8);
}

// Sarama before 1.24 sends maxTimestamp -1; Kafka's LogValidator sets it from the
// records on append, and so does Runnel for such an impossible header.
TEST(RecordCodec, RepairsMaxTimestampBelowBaseTimestamp) {
  BatchSpec spec;
  spec.base_timestamp = 5'000;
  spec.max_timestamp = -1;
  auto batch = build_batch({{"a", "1", 0}, {"b", "2", 7}, {"c", "3", 3}}, spec);
  BatchHeader h = parse_batch_header(batch);
  ASSERT_TRUE(repair_max_timestamp(batch, h));
  EXPECT_EQ(h.max_timestamp, 5'007);
  const BatchHeader reparsed = parse_batch_header(batch);
  EXPECT_EQ(reparsed.max_timestamp, 5'007);
  EXPECT_EQ(reparsed.crc, compute_batch_crc(batch));
  EXPECT_EQ(h.crc, reparsed.crc);
}

TEST(RecordCodec, LeavesAPlausibleMaxTimestampAlone) {
  auto batch = build_batch({{"a", "1", 0}, {"b", "2", 7}});
  const auto before = batch;
  BatchHeader h = parse_batch_header(batch);
  EXPECT_FALSE(repair_max_timestamp(batch, h));
  EXPECT_EQ(batch, before);
}
