// The commit journal (storage/commit_journal.h) is what makes an acks=all
// record durable when many partitions share a flush round: the logs' own
// files are synced later. A kill -9 keeps the page cache, so this test also
// throws away every byte the logs wrote after the kill, as a power cut before
// their sync would: every acknowledged record must come back from the journal.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "broker_process.h"
#include "rdkafka_consumer.h"
#include "rdkafka_producer.h"
#include "record_verification.h"
#include "test_record.h"

namespace runnel::it {
namespace {

constexpr int kPartitions = 8;
constexpr std::uint64_t kRecords = 4000;

TestRecord Expected(std::uint64_t id) {
  TestRecord r;
  r.key = "id-" + std::to_string(id);
  r.value = "journaled #" + std::to_string(id) + std::string(id % 300, 'v');
  return r;
}

int CutEverySegment(const std::string& dir) {
  int cut = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir))
    if (entry.path().extension() == ".log") {
      std::filesystem::resize_file(entry.path(), 0);
      ++cut;
    }
  return cut;
}

TEST(JournalPowerLoss, AcknowledgedRecordsComeBackFromTheJournalWhenTheLogsLostEveryUnsyncedWrite) {
  // No checkpoint during the test: the logs are never synced after creation.
  BrokerProcess broker({"num.partitions=" + std::to_string(kPartitions), "log.journal.checkpoint.interval.ms=3600000",
                        "log.journal.checkpoint.bytes=1073741824"});
  ASSERT_TRUE(broker.start());
  const std::string topic = "journal-power-loss";
  Producer producer(broker.bootstrap(), {{"linger.ms", "2"}, {"acks", "all"}});
  ASSERT_TRUE(producer.ok()) << producer.error();
  std::string why;
  ASSERT_EQ(producer.wait_for_topic(topic, std::chrono::seconds(20), &why), kPartitions) << why;
  for (std::uint64_t id = 0; id < kRecords; ++id)
    ASSERT_EQ(producer.produce(topic, static_cast<std::int32_t>(id % kPartitions), Expected(id), id),
              RD_KAFKA_RESP_ERR_NO_ERROR);
  ASSERT_EQ(producer.flush(std::chrono::seconds(60)), RD_KAFKA_RESP_ERR_NO_ERROR);
  const auto acked = AckedOffsets(producer.deliveries());
  ASSERT_EQ(acked.size(), kRecords);

  broker.kill9();
  int cut = 0;
  for (int p = 0; p < kPartitions; ++p) cut += CutEverySegment(broker.partition_dir(topic, p));
  EXPECT_EQ(cut, kPartitions);
  ASSERT_TRUE(broker.start()) << broker.stderr_tail();
  EXPECT_NE(broker.stderr_tail(400).find("commit journal: restored"), std::string::npos) << broker.stderr_tail();

  for (int p = 0; p < kPartitions; ++p) {
    SCOPED_TRACE("partition " + std::to_string(p));
    Watermarks w = QueryWatermarks(broker.bootstrap(), topic, p);
    ASSERT_TRUE(w.error.empty()) << w.error;
    EXPECT_EQ(w.high, static_cast<std::int64_t>(kRecords / kPartitions));
    PartitionContents contents = ReadPartition(broker.bootstrap(), topic, p, w.high);
    EXPECT_TRUE(contents.complete) << "read " << contents.records.size() << " of " << w.high;
    EXPECT_EQ(VerifyPartitionAgainstAcks(p, contents, acked, Expected), 0);
  }
  EXPECT_EQ(broker.stop(), 0) << broker.stderr_tail();
}

}  // namespace
}  // namespace runnel::it
