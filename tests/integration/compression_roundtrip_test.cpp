// Acceptance 2: a batching librdkafka producer (linger.ms=5, acks=all) with
// every compression codec; every delivery report succeeds with an offset,
// and a consumer reads back exactly what was acknowledged at each offset.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "broker_process.h"
#include "rdkafka_consumer.h"
#include "rdkafka_producer.h"
#include "record_verification.h"
#include "test_record.h"

namespace runnel::it {
namespace {

constexpr int kPartitions = 3;
constexpr std::uint64_t kRecords = 12000;
constexpr std::uint64_t kSeed = 7;

class CompressionRoundTrip : public ::testing::TestWithParam<std::string> {};

TEST_P(CompressionRoundTrip, BatchedAcksAllProduceIsAcknowledgedAndReadsBackByteIdentical) {
  const std::string codec = GetParam();
  if (codec != "none" && RdkafkaBuiltinFeatures().find(codec) == std::string::npos) {
    GTEST_SKIP() << "librdkafka built without " << codec;
  }
  BrokerProcess broker({"num.partitions=3"});
  ASSERT_TRUE(broker.start());
  const std::string topic = "compressed-" + codec;

  Producer producer(broker.bootstrap(), {{"compression.codec", codec}, {"linger.ms", "5"}, {"acks", "all"}});
  ASSERT_TRUE(producer.ok()) << producer.error();
  std::string why;
  ASSERT_EQ(producer.wait_for_topic(topic, std::chrono::seconds(20), &why), kPartitions) << why;

  for (std::uint64_t id = 0; id < kRecords; ++id) {
    ASSERT_EQ(producer.produce(topic, RD_KAFKA_PARTITION_UA, MakeMixedRecord(id, kSeed), id),
              RD_KAFKA_RESP_ERR_NO_ERROR);
    if (id % 1000 == 0) producer.poll(0);
  }
  ASSERT_EQ(producer.flush(std::chrono::seconds(120)), RD_KAFKA_RESP_ERR_NO_ERROR)
      << producer.outstanding() << " records never got a delivery report";

  const auto deliveries = producer.deliveries();
  ASSERT_EQ(deliveries.size(), kRecords);
  std::set<std::uint64_t> ids;
  std::map<std::int32_t, std::int64_t> per_partition;
  int failed = 0;
  for (const auto& d : deliveries) {
    ids.insert(d.id);
    if (d.err != RD_KAFKA_RESP_ERR_NO_ERROR || d.offset < 0) {
      if (++failed <= 5) {
        ADD_FAILURE() << "record " << d.id << " delivery failed: " << rd_kafka_err2name(d.err)
                      << " offset=" << d.offset;
      }
      continue;
    }
    ++per_partition[d.partition];
  }
  ASSERT_EQ(failed, 0);
  ASSERT_EQ(ids.size(), kRecords) << "every record gets exactly one delivery report";
  const auto acked = AckedOffsets(deliveries);
  ASSERT_EQ(acked.size(), kRecords);

  for (std::int32_t p = 0; p < kPartitions; ++p) {
    SCOPED_TRACE("partition " + std::to_string(p));
    const std::int64_t count = per_partition[p];
    // Acknowledged offsets of a partition are exactly 0..count-1.
    auto first = acked.lower_bound({p, INT64_MIN});
    if (count > 0) {
      EXPECT_EQ(first->first.second, 0);
      EXPECT_EQ(std::prev(acked.lower_bound({p + 1, INT64_MIN}))->first.second, count - 1);
    }
    Watermarks w = QueryWatermarks(broker.bootstrap(), topic, p);
    ASSERT_TRUE(w.error.empty()) << w.error;
    EXPECT_EQ(w.low, 0);
    EXPECT_EQ(w.high, count);
    PartitionContents contents = ReadPartition(broker.bootstrap(), topic, p, count);
    EXPECT_TRUE(contents.complete) << "read " << contents.records.size() << " of " << count;
    EXPECT_EQ(static_cast<std::int64_t>(contents.records.size()), count);
    EXPECT_EQ(VerifyPartitionAgainstAcks(p, contents, acked,
                                         [](std::uint64_t id) { return MakeMixedRecord(id, kSeed); }),
              0);
  }
  EXPECT_EQ(broker.stop(), 0) << broker.stderr_tail();
}

INSTANTIATE_TEST_SUITE_P(AllCodecs, CompressionRoundTrip,
                         ::testing::Values("none", "gzip", "snappy", "lz4", "zstd"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace runnel::it
