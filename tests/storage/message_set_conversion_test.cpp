// Old message formats (magic 0/1): parsing, up-conversion to RecordBatch v2 for
// Produce v0-v2, down-conversion for Fetch v0-v3, and the bad inputs that must be
// refused cleanly.
#include "storage/message_set_conversion.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "storage/compression.h"
#include "storage/legacy_message_set.h"
#include "storage/record_codec.h"

using namespace runnel;
using namespace runnel::storage;

namespace {

using Bytes = std::vector<uint8_t>;

std::span<const uint8_t> text(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
std::string str(std::optional<std::span<const uint8_t>> s) {
  return s ? std::string(s->begin(), s->end()) : std::string("<null>");
}

const std::string kKeys[] = {"k0", "k1", "k2"};
const std::string kValues[] = {"v0", "", "value-two"};

// Three messages; the second has a null key. Timestamps 1000, 1001, 1002 (magic 1).
Bytes plain_set(int8_t magic, int64_t first_offset = 0) {
  Bytes out;
  for (int i = 0; i < 3; ++i) {
    std::optional<std::span<const uint8_t>> key;
    if (i != 1) key = text(kKeys[i]);
    write_message(out, first_offset + i, magic, 0, 1000 + i, key, text(kValues[i]));
  }
  return out;
}

Bytes wrapper(int8_t magic, CompressionType codec, const Bytes& inner, int8_t extra_attributes = 0,
              int64_t timestamp = 5000) {
  Bytes packed;
  EXPECT_TRUE(compress(codec, inner, packed));
  Bytes out;
  write_message(out, 2, magic, static_cast<int8_t>(static_cast<int>(codec) | extra_attributes), timestamp,
                std::nullopt, std::span<const uint8_t>(packed));
  return out;
}

DecodedBatch decode(const Bytes& batch) {
  DecodedBatch decoded;
  std::string error;
  EXPECT_TRUE(decode_batch(batch, decoded, &error)) << error;
  return decoded;
}

void expect_three(const DecodedBatch& d, bool has_timestamps) {
  ASSERT_EQ(d.records.size(), 3u);
  EXPECT_EQ(d.header.last_offset_delta, 2);
  EXPECT_EQ(d.header.producer_id, -1);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(d.records[i].offset, i);
    EXPECT_EQ(str(d.records[i].key), i == 1 ? "<null>" : kKeys[i]);
    EXPECT_EQ(str(d.records[i].value), kValues[i]);
    EXPECT_EQ(d.records[i].timestamp, has_timestamps ? 1000 + i : -1);
    EXPECT_EQ(d.records[i].headers.size(), 1u);  // header count 0
  }
}

ErrorCode up(const Bytes& set, Bytes& out) {
  std::string error;
  return up_convert_message_set(set, out, &error);
}

}  // namespace

TEST(LegacyMessageSet, Crc32IsIeee) {
  EXPECT_EQ(crc32_ieee(text("123456789")), 0xCBF43926u);  // the standard check value
}

TEST(LegacyMessageSet, WriteThenParse) {
  for (int8_t magic : {0, 1}) {
    const Bytes set = plain_set(magic, 7);
    std::vector<LegacyMessage> messages;
    std::string error;
    ASSERT_TRUE(parse_message_set(set, messages, &error)) << error;
    ASSERT_EQ(messages.size(), 3u);
    EXPECT_EQ(messages[2].offset, 9);
    EXPECT_EQ(messages[0].magic, magic);
    EXPECT_EQ(messages[1].timestamp, magic == 0 ? -1 : 1001);
    EXPECT_FALSE(messages[1].key);
    EXPECT_EQ(str(messages[2].value), "value-two");
  }
}

TEST(MessageSetUpConversion, Magic0HasNoTimestamps) {
  Bytes batch;
  ASSERT_EQ(up(plain_set(0), batch), ErrorCode::kNone);
  const auto d = decode(batch);
  expect_three(d, false);
  EXPECT_EQ(d.header.max_timestamp, -1);
  EXPECT_EQ(d.header.compression(), 0);
  EXPECT_EQ(compute_batch_crc(batch), d.header.crc);
}

TEST(MessageSetUpConversion, Magic1KeepsCreateTime) {
  Bytes batch;
  ASSERT_EQ(up(plain_set(1, 40), batch), ErrorCode::kNone);
  const auto d = decode(batch);
  expect_three(d, true);
  EXPECT_EQ(d.header.max_timestamp, 1002);
  EXPECT_FALSE(d.header.log_append_time());
}

TEST(MessageSetUpConversion, CompressedWrappersKeepTheirCodec) {
  for (int8_t magic : {0, 1}) {
    for (auto codec : {CompressionType::kGzip, CompressionType::kSnappy, CompressionType::kLz4}) {
      SCOPED_TRACE(std::to_string(magic) + "/" + std::to_string(static_cast<int>(codec)));
      Bytes batch;
      ASSERT_EQ(up(wrapper(magic, codec, plain_set(magic)), batch), ErrorCode::kNone);
      const auto d = decode(batch);
      expect_three(d, magic == 1);
      EXPECT_EQ(d.header.compression(), static_cast<int>(codec));
    }
  }
}

TEST(MessageSetUpConversion, LogAppendTimeWrapperStampsInnerMessages) {
  Bytes batch;
  ASSERT_EQ(up(wrapper(1, CompressionType::kGzip, plain_set(1), legacy::kTimestampTypeLogAppend, 777), batch),
            ErrorCode::kNone);
  const auto d = decode(batch);
  ASSERT_EQ(d.records.size(), 3u);
  for (const auto& r : d.records) EXPECT_EQ(r.timestamp, 777);
}

TEST(MessageSetUpConversion, WrappersAndPlainMessagesMix) {
  Bytes set = plain_set(1);
  const Bytes w = wrapper(1, CompressionType::kSnappy, plain_set(1));
  set.insert(set.end(), w.begin(), w.end());
  Bytes batch;
  ASSERT_EQ(up(set, batch), ErrorCode::kNone);
  const auto d = decode(batch);
  ASSERT_EQ(d.records.size(), 6u);
  EXPECT_EQ(d.records[5].offset, 5);
  EXPECT_EQ(str(d.records[5].value), "value-two");
}

// KAFKA-3160: magic 0 lz4 frames carry a header checksum computed over the frame
// magic too. Kafka ignores it for magic 0; magic 1 frames must be correct.
TEST(MessageSetUpConversion, Magic0Lz4BrokenHeaderChecksumIsAccepted) {
  for (int8_t magic : {0, 1}) {
    Bytes packed;
    ASSERT_TRUE(compress(CompressionType::kLz4, plain_set(magic), packed));
    ASSERT_GE(packed.size(), 7u);
    const size_t hc = 4 + 2 + ((packed[4] & 0x08) ? 8 : 0) + ((packed[4] & 0x01) ? 4 : 0);
    packed[hc] ^= 0x5a;
    Bytes set;
    write_message(set, 0, magic, static_cast<int8_t>(CompressionType::kLz4), 0, std::nullopt,
                  std::span<const uint8_t>(packed));
    Bytes batch;
    if (magic == 0) {
      ASSERT_EQ(up(set, batch), ErrorCode::kNone);
      expect_three(decode(batch), false);
    } else {
      EXPECT_EQ(up(set, batch), ErrorCode::kCorruptMessage);
      EXPECT_TRUE(batch.empty());
    }
  }
}

TEST(MessageSetUpConversion, BadCrcIsCorrupt) {
  Bytes set = plain_set(1);
  set[set.size() - 1] ^= 1;  // last value byte of the last message
  Bytes batch;
  std::string error;
  EXPECT_EQ(up_convert_message_set(set, batch, &error), ErrorCode::kCorruptMessage);
  EXPECT_NE(error.find("CRC"), std::string::npos) << error;
  EXPECT_TRUE(batch.empty());
}

TEST(MessageSetUpConversion, BadCrcInsideWrapperIsCorrupt) {
  Bytes inner = plain_set(0);
  inner[20] ^= 0xff;
  Bytes batch;
  EXPECT_EQ(up(wrapper(0, CompressionType::kGzip, inner), batch), ErrorCode::kCorruptMessage);
}

TEST(MessageSetUpConversion, EveryTruncationIsRefusedWithoutCrashing) {
  for (int8_t magic : {0, 1}) {
    for (const Bytes& set : {plain_set(magic), wrapper(magic, CompressionType::kGzip, plain_set(magic))}) {
      // A cut at a message boundary leaves a shorter, valid set.
      std::vector<size_t> boundaries;
      for (size_t at = 0; at < set.size(); at += 12 + static_cast<size_t>(load_be32(set.data() + at + 8))) {
        boundaries.push_back(at);
      }
      for (size_t n = 0; n < set.size(); ++n) {
        Bytes batch;
        const Bytes cut(set.begin(), set.begin() + static_cast<ptrdiff_t>(n));
        const bool valid = n > 0 && std::find(boundaries.begin(), boundaries.end(), n) != boundaries.end();
        EXPECT_EQ(up(cut, batch), valid ? ErrorCode::kNone : ErrorCode::kCorruptMessage) << n;
      }
    }
  }
}

TEST(MessageSetUpConversion, MalformedInputsAreRefused) {
  Bytes batch;
  // Nested compression.
  EXPECT_EQ(up(wrapper(1, CompressionType::kGzip, wrapper(1, CompressionType::kGzip, plain_set(1))), batch),
            ErrorCode::kCorruptMessage);
  // Inner magic differs from the wrapper's.
  EXPECT_EQ(up(wrapper(1, CompressionType::kGzip, plain_set(0)), batch), ErrorCode::kCorruptMessage);
  // Garbage instead of a gzip stream.
  Bytes garbage;
  write_message(garbage, 0, 1, static_cast<int8_t>(CompressionType::kGzip), 0, std::nullopt, text("not gzip"));
  EXPECT_EQ(up(garbage, batch), ErrorCode::kCorruptMessage);
  // A compressed message with a null value.
  Bytes null_wrapper;
  write_message(null_wrapper, 0, 1, static_cast<int8_t>(CompressionType::kSnappy), 0, std::nullopt, std::nullopt);
  EXPECT_EQ(up(null_wrapper, batch), ErrorCode::kCorruptMessage);
  // A wrapper holding nothing.
  EXPECT_EQ(up(wrapper(1, CompressionType::kGzip, Bytes{}), batch), ErrorCode::kCorruptMessage);
  // zstd cannot be carried by magic 0/1.
  Bytes zstd;
  write_message(zstd, 0, 1, static_cast<int8_t>(CompressionType::kZstd), 0, std::nullopt, text("x"));
  EXPECT_EQ(up(zstd, batch), ErrorCode::kUnsupportedCompressionType);
  // Magic 2 and unknown magics.
  Bytes magic2 = plain_set(1);
  magic2[16] = 2;
  EXPECT_EQ(up(magic2, batch), ErrorCode::kCorruptMessage);
  // A key length pointing past the message.
  Bytes long_key = plain_set(0);
  store_be32(long_key.data() + 18, 1000);
  EXPECT_EQ(up(long_key, batch), ErrorCode::kCorruptMessage);
  // Negative message size.
  Bytes negative = plain_set(0);
  store_be32(negative.data() + 8, -5);
  EXPECT_EQ(up(negative, batch), ErrorCode::kCorruptMessage);
  EXPECT_EQ(up(Bytes{}, batch), ErrorCode::kCorruptMessage);
  EXPECT_TRUE(batch.empty());
}

namespace {

// A v2 batch at base_offset holding the three sample records, with one header each.
Bytes v2_batch(int64_t base_offset, CompressionType codec, int16_t extra_attributes = 0, int64_t max_ts = -1) {
  static const uint8_t kOneHeader[] = {2, 2, 'h', 2, 'v'};  // count 1, key "h", value "v" (zigzag varints)
  std::vector<RecordView> records;
  for (int i = 0; i < 3; ++i) {
    RecordView r;
    r.offset = base_offset + i;
    r.timestamp = 1000 + i;
    if (i != 1) r.key = text(kKeys[i]);
    r.value = text(kValues[i]);
    r.headers = kOneHeader;
    records.push_back(r);
  }
  BatchHeader header;
  header.base_offset = base_offset;
  header.last_offset_delta = 2;
  header.attributes = static_cast<int16_t>(static_cast<int>(codec) | extra_attributes);
  header.max_timestamp = max_ts;
  Bytes out;
  EXPECT_TRUE(encode_batch(header, records, -1, out));
  return out;
}

std::vector<LegacyMessage> parse(const Bytes& set) {
  std::vector<LegacyMessage> messages;
  std::string error;
  EXPECT_TRUE(parse_message_set(set, messages, &error)) << error;
  return messages;
}

}  // namespace

TEST(MessageSetDownConversion, EveryCodecToBothMagics) {
  for (auto codec : {CompressionType::kNone, CompressionType::kGzip, CompressionType::kSnappy, CompressionType::kLz4,
                     CompressionType::kZstd}) {
    for (int8_t magic : {0, 1}) {
      Bytes batches = v2_batch(10, codec);
      const Bytes second = v2_batch(13, codec);
      batches.insert(batches.end(), second.begin(), second.end());
      Bytes out;
      std::string error;
      ASSERT_TRUE(down_convert_batches(batches, magic, 0, 1 << 20, out, &error)) << error;
      const auto messages = parse(out);
      ASSERT_EQ(messages.size(), 6u);
      for (size_t i = 0; i < 6; ++i) {
        EXPECT_EQ(messages[i].offset, static_cast<int64_t>(10 + i));
        EXPECT_EQ(messages[i].magic, magic);
        EXPECT_EQ(messages[i].codec(), 0);  // written uncompressed
        EXPECT_EQ(str(messages[i].key), i % 3 == 1 ? "<null>" : kKeys[i % 3]);
        EXPECT_EQ(str(messages[i].value), kValues[i % 3]);
        EXPECT_EQ(messages[i].timestamp, magic == 0 ? -1 : static_cast<int64_t>(1000 + i % 3));
      }
    }
  }
}

TEST(MessageSetDownConversion, RoundTripThroughUpConversion) {
  for (int8_t magic : {0, 1}) {
    Bytes batch;
    ASSERT_EQ(up(wrapper(magic, CompressionType::kSnappy, plain_set(magic)), batch), ErrorCode::kNone);
    Bytes out;
    ASSERT_TRUE(down_convert_batches(batch, magic, 0, 1 << 20, out, nullptr));
    EXPECT_EQ(out, plain_set(magic));  // byte for byte, CRCs included
  }
}

TEST(MessageSetDownConversion, SkipsRecordsBeforeTheFetchOffset) {
  Bytes out;
  ASSERT_TRUE(down_convert_batches(v2_batch(10, CompressionType::kGzip), 1, 11, 1 << 20, out, nullptr));
  const auto messages = parse(out);
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].offset, 11);
}

TEST(MessageSetDownConversion, LogAppendTimeUsesTheBatchTimestamp) {
  Bytes out;
  ASSERT_TRUE(down_convert_batches(v2_batch(0, CompressionType::kNone, batch_attr::kLogAppendTime, 4242), 1, 0,
                                   1 << 20, out, nullptr));
  for (const auto& m : parse(out)) {
    EXPECT_EQ(m.timestamp, 4242);
    EXPECT_TRUE(m.log_append_time());
  }
}

TEST(MessageSetDownConversion, DropsControlBatches) {
  Bytes batches = v2_batch(0, CompressionType::kNone, batch_attr::kControl | batch_attr::kTransactional);
  const Bytes data = v2_batch(3, CompressionType::kNone);
  batches.insert(batches.end(), data.begin(), data.end());
  Bytes out;
  ASSERT_TRUE(down_convert_batches(batches, 0, 0, 1 << 20, out, nullptr));
  const auto messages = parse(out);
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(messages[0].offset, 3);
}

TEST(MessageSetDownConversion, StopsAtMaxBytesButWritesOneMessage) {
  Bytes out;
  ASSERT_TRUE(down_convert_batches(v2_batch(0, CompressionType::kNone), 0, 0, 1, out, nullptr));
  EXPECT_EQ(parse(out).size(), 1u);
  out.clear();
  ASSERT_TRUE(down_convert_batches(v2_batch(0, CompressionType::kNone), 0, 0, 60, out, nullptr));
  EXPECT_EQ(parse(out).size(), 2u);  // 26 + 24 bytes fit, the third (33) does not
  EXPECT_LE(out.size(), 60u);
}

TEST(MessageSetDownConversion, CorruptStoredBatchFailsCleanly) {
  Bytes batch = v2_batch(0, CompressionType::kGzip);
  batch[batch.size() - 3] ^= 0xff;  // inside the gzip stream's trailer
  Bytes out;
  std::string error;
  EXPECT_FALSE(down_convert_batches(batch, 1, 0, 1 << 20, out, &error));
  EXPECT_FALSE(error.empty());
  // A trailing partial batch (not possible from Log::read, but harmless) is ignored.
  Bytes partial = v2_batch(0, CompressionType::kNone);
  partial.pop_back();  // (resize(size() - 1) trips a GCC 12 -Wstringop-overflow false positive under ASan)
  out.clear();
  EXPECT_TRUE(down_convert_batches(partial, 1, 0, 1 << 20, out, nullptr));
  EXPECT_TRUE(out.empty());
}
