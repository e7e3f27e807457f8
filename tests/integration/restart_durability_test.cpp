// Acceptance 3a: records survive a clean SIGTERM restart, the broker exits 0,
// and new produce continues at the next offset of each partition.
#include <gtest/gtest.h>

#include <map>

#include "broker_process.h"
#include "rdkafka_consumer.h"
#include "rdkafka_producer.h"
#include "record_verification.h"
#include "test_record.h"

namespace runnel::it {
namespace {

constexpr int kPartitions = 2;
constexpr std::uint64_t kSeed = 11;

TestRecord Expected(std::uint64_t id) { return MakeMixedRecord(id, kSeed); }

// Produces ids [from, to) round-robin over partitions; returns all deliveries.
std::vector<Delivery> ProduceRange(const std::string& bootstrap, const std::string& topic, std::uint64_t from,
                                   std::uint64_t to) {
  Producer producer(bootstrap, {{"linger.ms", "5"}});
  EXPECT_TRUE(producer.ok()) << producer.error();
  if (!producer.ok()) return {};
  std::string why;
  EXPECT_EQ(producer.wait_for_topic(topic, std::chrono::seconds(20), &why), kPartitions) << why;
  for (std::uint64_t id = from; id < to; ++id) {
    EXPECT_EQ(producer.produce(topic, static_cast<std::int32_t>(id % kPartitions), Expected(id), id),
              RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  EXPECT_EQ(producer.flush(std::chrono::seconds(60)), RD_KAFKA_RESP_ERR_NO_ERROR);
  auto deliveries = producer.deliveries();
  for (const auto& d : deliveries) {
    EXPECT_EQ(d.err, RD_KAFKA_RESP_ERR_NO_ERROR) << "record " << d.id << ": " << rd_kafka_err2name(d.err);
  }
  EXPECT_EQ(deliveries.size(), to - from);
  return deliveries;
}

TEST(RestartDurability, RecordsSurviveSigtermRestartAndNewProduceContinuesAtNextOffset) {
  BrokerProcess broker({"num.partitions=2"});
  ASSERT_TRUE(broker.start());
  const std::string topic = "restart-durability";

  auto deliveries = ProduceRange(broker.bootstrap(), topic, 0, 1000);
  ASSERT_FALSE(::testing::Test::HasFailure());

  ASSERT_EQ(broker.stop(), 0) << "broker must exit 0 after SIGTERM\n" << broker.stderr_tail();
  ASSERT_TRUE(broker.start());

  std::map<std::int32_t, std::int64_t> end_before;
  for (int p = 0; p < kPartitions; ++p) {
    Watermarks w = QueryWatermarks(broker.bootstrap(), topic, p);
    ASSERT_TRUE(w.error.empty()) << w.error;
    EXPECT_EQ(w.high, 500) << "partition " << p << " high watermark after restart";
    end_before[p] = w.high;
  }

  auto more = ProduceRange(broker.bootstrap(), topic, 1000, 1100);
  for (const auto& d : more) {
    EXPECT_GE(d.offset, end_before[d.partition])
        << "record " << d.id << " got offset " << d.offset << " which existed before the restart";
  }
  std::map<std::int32_t, std::int64_t> lowest_new;
  for (const auto& d : more) {
    auto [it, inserted] = lowest_new.emplace(d.partition, d.offset);
    if (!inserted) it->second = std::min(it->second, d.offset);
  }
  for (const auto& [p, off] : lowest_new) {
    EXPECT_EQ(off, end_before[p]) << "first new offset of partition " << p << " must be the old log end";
  }

  deliveries.insert(deliveries.end(), more.begin(), more.end());
  const auto acked = AckedOffsets(deliveries);
  for (int p = 0; p < kPartitions; ++p) {
    PartitionContents contents = ReadWholePartition(broker.bootstrap(), topic, p);
    EXPECT_TRUE(contents.complete);
    EXPECT_EQ(contents.records.size(), 550u);
    EXPECT_EQ(VerifyPartitionAgainstAcks(p, contents, acked, Expected), 0);
  }

  // And once more across a second restart, reading everything back.
  ASSERT_TRUE(broker.restart());
  for (int p = 0; p < kPartitions; ++p) {
    PartitionContents contents = ReadWholePartition(broker.bootstrap(), topic, p);
    EXPECT_EQ(contents.records.size(), 550u);
    EXPECT_EQ(VerifyPartitionAgainstAcks(p, contents, acked, Expected), 0);
  }
  EXPECT_EQ(broker.stop(), 0) << broker.stderr_tail();
}

}  // namespace
}  // namespace runnel::it
