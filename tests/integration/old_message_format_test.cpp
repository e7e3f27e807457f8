// Old message formats over the wire: Produce v0/v2 carrying magic 0/1 message
// sets (converted to RecordBatch v2 on append) and Fetch v0/v2 reading them back
// down-converted. Bad message sets get CORRUPT_MESSAGE (or
// UNSUPPORTED_COMPRESSION_TYPE), consume no offsets, and leave the broker serving.
#include <gtest/gtest.h>

#include <cstring>
#include <thread>

#include "broker_process.h"
#include "kafka_requests.h"
#include "storage/compression.h"
#include "storage/legacy_message_set.h"
#include "storage/record_batch.h"

namespace runnel::it {
namespace {

using storage::CompressionType;
using storage::LegacyMessage;
constexpr const char* kTopic = "old-format";

std::span<const uint8_t> text(const char* s) { return {reinterpret_cast<const uint8_t*>(s), std::strlen(s)}; }

Bytes three_messages(int8_t magic) {
  Bytes out;
  storage::write_message(out, 0, magic, 0, 1000, text("k0"), text("v0"));
  storage::write_message(out, 1, magic, 0, 1001, std::nullopt, text("v1"));
  storage::write_message(out, 2, magic, 0, 1002, text("k2"), std::nullopt);
  return out;
}

Bytes gzip_wrapper(int8_t magic, const Bytes& inner) {
  Bytes packed;
  EXPECT_TRUE(storage::compress(CompressionType::kGzip, inner, packed));
  Bytes out;
  storage::write_message(out, 2, magic, static_cast<int8_t>(CompressionType::kGzip), 5000, std::nullopt,
                         std::span<const uint8_t>(packed));
  return out;
}

// Minimal big-endian reader for the responses (bounds-checked).
struct In {
  const Bytes& b;
  size_t pos = 0;
  bool ok = true;
  int64_t get(int width) {
    if (!ok || b.size() - pos < static_cast<size_t>(width)) { ok = false; return 0; }
    int64_t v = 0;
    for (int i = 0; i < width; ++i) v = (v << 8) | b[pos++];
    return width == 2 ? static_cast<int16_t>(v) : width == 4 ? static_cast<int32_t>(v) : v;
  }
  void skip_string() { pos += static_cast<size_t>(get(2)); }
};

class OldMessageFormat : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    broker_ = new BrokerProcess({"num.partitions=1"});
    ASSERT_TRUE(broker_->start());
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      auto frame = RoundTrip(broker_->port(), MetadataV4Request(1, std::vector<std::string>{kTopic}, true));
      if (frame) {
        auto md = ParseMetadataV4Response(*frame);
        if (const auto* t = md.find(kTopic); t != nullptr && t->error == kafka_error::kNone) return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    FAIL() << "topic never became available";
  }
  static void TearDownTestSuite() {
    delete broker_;
    broker_ = nullptr;
  }

  // Produce (v0 or v2, acks=1) of one message set; returns {error, base offset}.
  static std::pair<int16_t, int64_t> Produce(int16_t version, const Bytes& set) {
    WireWriter body;
    body.i16(1).i32(10000).i32(1).string(kTopic).i32(1).i32(0).bytes(set);
    auto frame = RoundTrip(broker_->port(), RequestFrame(api::kProduce, version, 7, body.data()));
    if (!frame) return {-100, -1};
    In in{*frame};
    in.get(4);  // correlation id
    in.get(4);  // topics
    in.skip_string();
    in.get(4);  // partitions
    in.get(4);  // partition
    const auto error = static_cast<int16_t>(in.get(2));
    const int64_t base = in.get(8);
    if (version >= 2) in.get(8);  // log append time
    if (version >= 1) in.get(4);  // throttle
    if (!in.ok || in.pos != frame->size()) return {-101, -1};
    return {error, base};
  }

  // Fetch (v0 or v2) of partition 0 from offset; returns the parsed message set.
  static std::vector<LegacyMessage> Fetch(int16_t version, int64_t offset, Bytes& records) {
    WireWriter body;
    body.i32(-1).i32(100).i32(1).i32(1).string(kTopic).i32(1).i32(0).i64(offset).i32(1 << 20);
    auto frame = RoundTrip(broker_->port(), RequestFrame(api::kFetch, version, 8, body.data()));
    std::vector<LegacyMessage> out;
    if (!frame) {
      ADD_FAILURE() << "no Fetch response";
      return out;
    }
    In in{*frame};
    in.get(4);  // correlation id
    if (version >= 1) in.get(4);  // throttle
    in.get(4);
    in.skip_string();
    in.get(4);
    in.get(4);
    EXPECT_EQ(in.get(2), 0) << "fetch error";
    in.get(8);  // high watermark
    const auto size = static_cast<size_t>(in.get(4));
    if (!in.ok || frame->size() - in.pos < size) {
      ADD_FAILURE() << "bad Fetch response";
      return out;
    }
    records.assign(frame->begin() + static_cast<ptrdiff_t>(in.pos), frame->begin() + static_cast<ptrdiff_t>(in.pos + size));
    std::string error;
    EXPECT_TRUE(storage::parse_message_set(records, out, &error)) << error;
    return out;
  }

  static BrokerProcess* broker_;
};
BrokerProcess* OldMessageFormat::broker_ = nullptr;

TEST_F(OldMessageFormat, ProduceAndFetchMagic0And1) {
  // Bad sets first: none may consume an offset.
  Bytes bad_crc = three_messages(0);
  bad_crc.back() ^= 1;
  EXPECT_EQ(Produce(0, bad_crc).first, kafka_error::kCorruptMessage);
  Bytes truncated = three_messages(1);
  truncated.resize(truncated.size() - 3);
  EXPECT_EQ(Produce(2, truncated).first, kafka_error::kCorruptMessage);
  Bytes not_gzip;
  storage::write_message(not_gzip, 0, 1, static_cast<int8_t>(CompressionType::kGzip), 0, std::nullopt, text("nope"));
  EXPECT_EQ(Produce(1, not_gzip).first, kafka_error::kCorruptMessage);
  Bytes zstd;
  storage::write_message(zstd, 0, 1, static_cast<int8_t>(CompressionType::kZstd), 0, std::nullopt, text("z"));
  EXPECT_EQ(Produce(2, zstd).first, 76);  // UNSUPPORTED_COMPRESSION_TYPE
  // Produce v3+ must carry magic 2: an old message set is refused, not converted.
  EXPECT_NE(ParseProduceV3Response(*RoundTrip(broker_->port(), ProduceV3Request(9, kTopic, 0, three_messages(1))))
                .partitions.at(0).error,
            kafka_error::kNone);

  EXPECT_EQ(Produce(0, three_messages(0)), (std::pair<int16_t, int64_t>{0, 0}));
  EXPECT_EQ(Produce(2, gzip_wrapper(1, three_messages(1))), (std::pair<int16_t, int64_t>{0, 3}));

  Bytes records;
  const auto v0 = Fetch(0, 0, records);
  ASSERT_EQ(v0.size(), 6u);
  for (size_t i = 0; i < v0.size(); ++i) {
    EXPECT_EQ(v0[i].offset, static_cast<int64_t>(i));
    EXPECT_EQ(v0[i].magic, 0);
    EXPECT_EQ(v0[i].codec(), 0);
  }
  EXPECT_FALSE(v0[1].key);
  EXPECT_FALSE(v0[5].value);
  EXPECT_EQ(std::string(v0[3].value->begin(), v0[3].value->end()), "v0");

  const auto v2 = Fetch(2, 4, records);
  ASSERT_EQ(v2.size(), 2u);
  EXPECT_EQ(v2[0].offset, 4);
  EXPECT_EQ(v2[0].magic, 1);
  EXPECT_EQ(v2[0].timestamp, 1001);
  EXPECT_EQ(Fetch(0, 0, records)[0].timestamp, -1);  // magic 0 had none
  EXPECT_TRUE(broker_->alive());
}

}  // namespace
}  // namespace runnel::it
