#include "consistency_checker.h"

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <thread>

#include "test_segments.h"

namespace runnel::fault {
namespace {

using storage::CompressionType;
using testing::KeyValue;

// Three brokers' data dirs holding one partition "t-0" each, and what clients saw.
class CheckerTest : public ::testing::Test {
 protected:
  // n records of producer p1 cycling over keys a, b, c, with per-key sequences.
  static std::vector<KeyValue> Workload(int n) {
    std::vector<KeyValue> out;
    std::map<std::string, int64_t> next;
    for (int i = 0; i < n; ++i) {
      const std::string key(1, static_cast<char>('a' + i % 3));
      out.push_back({key, MakeValue("p1", key, next[key]++)});
    }
    return out;
  }

  void Store(int broker, const std::vector<KeyValue>& records, std::optional<int64_t> hw,
             CompressionType codec = CompressionType::kNone) {
    const std::string& dir = dirs_[broker].path();
    testing::WritePartition(dir, "t", 0, records, 4, codec);
    if (hw) testing::WriteHighWatermarks(dir, {{{"t", 0}, *hw}});
  }

  void Ack(const std::vector<KeyValue>& records, int64_t from = 0, int64_t to = -1) {
    for (int64_t i = from; i < (to < 0 ? static_cast<int64_t>(records.size()) : to); ++i)
      writes_.Add({"t", 0, i, records[i].key, records[i].value});
  }

  void Consume(const std::vector<KeyValue>& records) {
    for (size_t i = 0; i < records.size(); ++i)
      writes_.AddConsumed({"t", 0, static_cast<int64_t>(i), records[i].key, records[i].value});
  }

  ConsistencyReport Run() {
    std::map<int, std::vector<ReplicaLog>> replicas;
    for (const auto& [broker, dir] : dirs_) replicas[broker].push_back(ReadReplica(dir.path(), "t", 0));
    return Check(writes_, replicas);
  }

  std::map<int, testing::TempDir> dirs_{{1, {}}, {2, {}}, {3, {}}};
  AckedWrites writes_;
};

TEST_F(CheckerTest, CleanClusterPasses) {
  const auto records = Workload(30);
  for (int b : {1, 2, 3}) Store(b, records, 30);
  Ack(records);
  Consume(records);
  const ConsistencyReport report = Run();
  EXPECT_TRUE(report.ok()) << report.Summary();
  EXPECT_EQ(report.Summary(),
            "lost=0 duplicated=0 reordered=0 diverged=0 vanished=0 unreadable=0 "
            "(acked=30, consumed=30, unconfirmed=0, resent-after-epoch-bump=0)");
}

TEST_F(CheckerTest, CompressedReplicasPass) {
  const auto records = Workload(25);
  Store(1, records, 25, CompressionType::kZstd);
  Store(2, records, 25, CompressionType::kLz4);
  Store(3, records, 25, CompressionType::kGzip);
  Ack(records);
  const ConsistencyReport report = Run();
  EXPECT_TRUE(report.ok()) << report.Summary();
}

TEST_F(CheckerTest, AckedWriteMissingOrOverwrittenBelowTheHighWatermarkIsLost) {
  auto records = Workload(12);
  auto stored = records;
  stored[3].value = MakeValue("p2", stored[3].key, 0);  // another write took offset 3
  stored[7].value = "garbage";
  for (int b : {1, 2, 3}) Store(b, stored, 12);
  Ack(records);
  const ConsistencyReport report = Run();
  EXPECT_FALSE(report.ok());
  EXPECT_EQ(report.lost.count, 2u) << report.Summary();
  EXPECT_EQ(report.diverged.count, 0u);
  ASSERT_EQ(report.lost.examples.size(), 2u);
  EXPECT_NE(report.lost.examples[0].find("t-0 offset 3"), std::string::npos) << report.lost.examples[0];
  EXPECT_NE(report.Summary().find("lost=2 "), std::string::npos);
}

TEST_F(CheckerTest, ReferenceIsTheReplicaWithTheHighestHighWatermark) {
  const auto records = Workload(20);
  Store(1, std::vector<KeyValue>(records.begin(), records.begin() + 8), 8);  // a follower that fell behind
  Store(2, records, 20);
  Store(3, std::vector<KeyValue>(records.begin(), records.begin() + 15), 15);
  Ack(records);
  const ConsistencyReport report = Run();
  EXPECT_TRUE(report.ok()) << report.Summary();

  // The same log with the acked tail cut off on the leader too: lost.
  Store(2, std::vector<KeyValue>(records.begin(), records.begin() + 17), 20);
  const ConsistencyReport truncated = Run();
  EXPECT_EQ(truncated.lost.count, 3u) << truncated.Summary();
  EXPECT_NE(truncated.lost.examples[0].find("broker 2 (reference, HW 20) holds no record there"), std::string::npos)
      << truncated.lost.examples[0];
}

TEST_F(CheckerTest, AckedWritesAboveTheHighWatermarkAreOnlyUnconfirmed) {
  const auto records = Workload(10);
  for (int b : {1, 2, 3}) Store(b, std::vector<KeyValue>(records.begin(), records.begin() + 8), 8);
  Ack(records);  // offsets 8 and 9 were acknowledged but are nowhere (e.g. acks=1)
  const ConsistencyReport report = Run();
  EXPECT_TRUE(report.ok()) << report.Summary();
  EXPECT_EQ(report.unconfirmed.count, 2u);
  EXPECT_NE(report.Summary().find("unconfirmed=2,"), std::string::npos) << report.Summary();
}

TEST_F(CheckerTest, AWriteAcknowledgedWithoutAnOffsetIsLookedUpByItsContent) {
  // librdkafka reports some idempotent deliveries with offset -1001.
  const auto records = Workload(9);
  for (int b : {1, 2, 3}) Store(b, records, 9);
  writes_.Add({"t", 0, -1001, records[4].key, records[4].value});
  EXPECT_TRUE(Run().ok());
  writes_.Add({"t", 0, -1001, "a", MakeValue("p1", "a", 99)});  // never stored
  const ConsistencyReport report = Run();
  EXPECT_EQ(report.lost.count, 1u) << report.Summary();
  EXPECT_NE(report.lost.examples.at(0).find("without an offset"), std::string::npos) << report.Summary();
}

TEST_F(CheckerTest, DuplicatesBelowTheHighWatermarkAreReported) {
  std::vector<KeyValue> stored = {{"a", MakeValue("p1", "a", 0)}, {"a", MakeValue("p1", "a", 1)},
                                  {"a", MakeValue("p1", "a", 1)},  // a retried batch stored twice
                                  {"a", MakeValue("p1", "a", 2)},  {"b", MakeValue("p2", "b", 0)},
                                  {"b", MakeValue("p2", "b", 0)}};  // above the HW: not counted
  for (int b : {1, 2, 3}) Store(b, stored, 5);
  const ConsistencyReport report = Run();
  EXPECT_EQ(report.duplicated.count, 1u) << report.Summary();
  EXPECT_EQ(report.reordered.count, 0u) << report.Summary();
  EXPECT_NE(report.duplicated.examples[0].find("t-0 offset 2: producer 'p1' key 'a' sequence 1 already stored at offset 1"),
            std::string::npos)
      << report.duplicated.examples[0];
}

TEST_F(CheckerTest, ACopyUnderANewProducerEpochIsAResendNotABrokerDuplicate) {
  // librdkafka re-sent sequence 1 after bumping its producer epoch (KIP-360):
  // a new epoch is a new sequence space, which no broker can deduplicate.
  // The same copy under the same epoch is the broker's fault.
  for (int16_t second_epoch : {int16_t{1}, int16_t{0}}) {
    std::vector<testing::TestBatch> batches(3);
    batches[0] = {0, {{"a", MakeValue("p1", "a", 0)}, {"a", MakeValue("p1", "a", 1)}}, 0};
    batches[1] = {2, {{"a", MakeValue("p1", "a", 1)}}, 0};
    batches[2] = {3, {{"a", MakeValue("p1", "a", 2)}}, 0};
    batches[0].producer_id = batches[1].producer_id = batches[2].producer_id = 1000;
    batches[0].producer_epoch = 0;
    batches[1].producer_epoch = batches[2].producer_epoch = second_epoch;
    for (int b : {1, 2, 3}) {
      testing::WriteSegment(dirs_[b].path(), "t", 0, 0, batches);
      testing::WriteHighWatermarks(dirs_[b].path(), {{{"t", 0}, 4}});
    }
    const ConsistencyReport report = Run();
    if (second_epoch == 1) {
      EXPECT_TRUE(report.ok()) << report.Summary();
      EXPECT_EQ(report.resent_after_epoch_bump.count, 1u) << report.Summary();
      EXPECT_NE(report.Summary().find("resent-after-epoch-bump=1"), std::string::npos) << report.Summary();
    } else {
      EXPECT_FALSE(report.ok()) << report.Summary();
      EXPECT_EQ(report.duplicated.count, 1u) << report.Summary();
      EXPECT_EQ(report.resent_after_epoch_bump.count, 0u) << report.Summary();
    }
  }
}

TEST_F(CheckerTest, SequenceGoingBackwardsForOneProducerAndKeyIsReordered) {
  std::vector<KeyValue> stored = {
      {"a", MakeValue("p1", "a", 0)}, {"b", MakeValue("p1", "b", 5)},  // other key: independent
      {"a", MakeValue("p1", "a", 2)}, {"a", MakeValue("p2", "a", 0)},  // other producer: independent
      {"a", MakeValue("p1", "a", 1)},                                  // went backwards
      {"a", MakeValue("p1", "a", 3)}, {"b", MakeValue("p1", "b", 7)},  // gaps are fine
      {"x", "not in the record_value format"}};
  for (int b : {1, 2, 3}) Store(b, stored, 8);
  const ConsistencyReport report = Run();
  EXPECT_EQ(report.reordered.count, 1u) << report.Summary();
  EXPECT_EQ(report.duplicated.count, 0u);
  EXPECT_NE(report.reordered.examples[0].find("offset 4: producer 'p1' key 'a' sequence 1 after sequence 2 at offset 2"),
            std::string::npos)
      << report.reordered.examples[0];
}

TEST_F(CheckerTest, ReplicasDifferingBelowTheCommonHighWatermarkDiverged) {
  const auto records = Workload(12);
  auto different = records;
  different[4].value = MakeValue("p9", different[4].key, 0);
  auto unclean_tail = records;
  unclean_tail[9].value = "an uncommitted write of a deposed leader";
  Store(1, records, 12);
  Store(2, different, 12);
  Store(3, unclean_tail, 9);  // differs only above its own HW: fine
  Ack(records);
  const ConsistencyReport report = Run();
  EXPECT_EQ(report.diverged.count, 1u) << report.Summary();
  EXPECT_EQ(report.lost.count, 0u) << report.Summary();
  EXPECT_NE(report.diverged.examples[0].find("broker 2 differs from broker 1 (reference, HW 12) at 1 offsets in [0, 12)"),
            std::string::npos)
      << report.diverged.examples[0];
}

TEST_F(CheckerTest, ReplicaMissingRecordsBelowTheCommonHighWatermarkDiverged) {
  const auto records = Workload(12);
  Store(1, records, 12);
  Store(2, records, 12);
  auto shorter = records;
  shorter.resize(6);
  Store(3, shorter, 10);  // claims HW 10 but holds only 6 records
  const ConsistencyReport report = Run();
  EXPECT_EQ(report.diverged.count, 1u) << report.Summary();
  EXPECT_NE(report.diverged.examples[0].find("broker 3"), std::string::npos);
}

TEST_F(CheckerTest, ConsumedRecordThatIsNoLongerThereVanished) {
  const auto records = Workload(10);
  for (int b : {1, 2, 3}) Store(b, records, 10);
  Consume(records);
  writes_.AddConsumed({"t", 0, 4, records[4].key, records[4].value});  // seen twice: checked once
  writes_.AddConsumed({"t", 0, 5, "b", "a value that the log does not hold"});
  const ConsistencyReport report = Run();
  EXPECT_EQ(report.vanished.count, 1u) << report.Summary();
  EXPECT_EQ(report.consumed, 12u);
}

TEST_F(CheckerTest, UnreadableReplicaIsReported) {
  const auto records = Workload(10);
  for (int b : {1, 2, 3}) Store(b, records, 10);
  {
    std::fstream f(testing::PartitionDir(dirs_[3].path(), "t", 0) + "/00000000000000000000.log",
                   std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(storage::kBatchHeaderSize + 3));
    f.put('#');
  }
  Ack(records);
  const ConsistencyReport report = Run();
  EXPECT_EQ(report.unreadable.count, 1u) << report.Summary();
  EXPECT_NE(report.unreadable.examples[0].find("broker 3: "), std::string::npos);
  EXPECT_EQ(report.diverged.count, 1u) << "broker 3 lost its records past the bad batch";
  EXPECT_EQ(report.lost.count, 0u) << "the reference (highest HW, then longest log) is intact";
}

TEST_F(CheckerTest, WithoutAnyHighWatermarkTheLongestLogIsTheReference) {
  const auto records = Workload(10);
  Store(1, records, std::nullopt);
  Store(2, std::vector<KeyValue>(records.begin(), records.begin() + 5), std::nullopt);
  Ack(records);
  const ConsistencyReport report = Run();
  EXPECT_TRUE(report.ok()) << report.Summary();
  EXPECT_NE(report.Summary().find("note: t-0: no replica has a known high watermark; using broker 1's log end 10"),
            std::string::npos)
      << report.Summary();
  EXPECT_NE(report.Summary().find("broker 2 has no known high watermark; not compared"), std::string::npos);
}

TEST_F(CheckerTest, PartitionNoBrokerHoldsLosesItsAckedWrites) {
  writes_.Add({"gone", 1, 0, "k", MakeValue("p1", "k", 0)});
  writes_.AddConsumed({"gone", 1, 0, "k", MakeValue("p1", "k", 0)});
  const ConsistencyReport report = Run();
  EXPECT_EQ(report.lost.count, 1u) << report.Summary();
  EXPECT_EQ(report.vanished.count, 1u) << report.Summary();
  EXPECT_NE(report.lost.examples[0].find("no broker holds the partition"), std::string::npos);
}

TEST_F(CheckerTest, SummaryListsTheFirstExamplesOfEachKind) {
  auto records = Workload(20);
  for (int b : {1, 2, 3}) Store(b, records, 20);
  for (auto& r : records) r.value += "!";  // none of these acked values is stored
  Ack(records);
  const ConsistencyReport report = Run();
  EXPECT_EQ(report.lost.count, 20u);
  EXPECT_EQ(report.lost.examples.size(), ConsistencyReport::kMaxExamples);
  const std::string summary = report.Summary();
  EXPECT_EQ(summary.substr(0, summary.find('\n')),
            "lost=20 duplicated=0 reordered=0 diverged=0 vanished=0 unreadable=0 (acked=20, consumed=0, unconfirmed=0, resent-after-epoch-bump=0)");
  EXPECT_NE(summary.find("\nlost: 20\n  t-0 offset 0: acknowledged key 'a'"), std::string::npos) << summary;
  EXPECT_NE(summary.find("\n  ... 15 more"), std::string::npos) << summary;
}

TEST(AckedWrites, IsThreadSafe) {
  AckedWrites writes;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&writes, t] {
      for (int i = 0; i < 1000; ++i) {
        writes.Add({"t", t, i, "k", "v"});
        if (i % 2 == 0) writes.AddConsumed({"t", t, i, "k", "v"});
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(writes.AckedCount(), 4000u);
  EXPECT_EQ(writes.ConsumedCount(), 2000u);
  EXPECT_EQ(writes.Acked().size(), 4000u);
}

}  // namespace
}  // namespace runnel::fault
