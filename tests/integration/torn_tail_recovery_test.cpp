// Acceptance 3c: a torn or corrupt tail appended to the last segment of a
// partition while the broker is down is truncated on restart: the broker
// starts, the segment is back to its valid length, earlier records are
// intact, and new produce gets the next offset right after them.
#include <gtest/gtest.h>

#include <random>

#include "broker_process.h"
#include "file_util.h"
#include "rdkafka_consumer.h"
#include "rdkafka_producer.h"
#include "record_batch_builder.h"
#include "record_verification.h"
#include "test_record.h"

namespace runnel::it {
namespace {

constexpr std::uint64_t kSeed = 5;
constexpr int kBatches = 20;

enum class Tail { kHalfOfCopiedBatch, kRandomBytes, kCopiedBatchWithBadCrc, kZeroFill, kHugeLengthHeader };
enum class Shutdown { kSigterm, kKill9 };

struct TornTailCase {
  Tail tail;
  Shutdown shutdown;
};

std::string TailName(Tail t) {
  switch (t) {
    case Tail::kHalfOfCopiedBatch: return "HalfOfCopiedBatch";
    case Tail::kRandomBytes: return "RandomBytes";
    case Tail::kCopiedBatchWithBadCrc: return "CopiedBatchWithBadCrc";
    case Tail::kZeroFill: return "ZeroFill";
    case Tail::kHugeLengthHeader: return "HugeLengthHeader";
  }
  return "?";
}

// Builds the bytes to append, given the valid segment contents.
std::string MakeTail(Tail tail, const std::string& segment, std::size_t last_batch_start, std::int64_t next_offset) {
  std::string last = segment.substr(last_batch_start);
  // Pretend the copy is the next batch: baseOffset is outside the CRC.
  for (int i = 0; i < 8; ++i) last[static_cast<std::size_t>(i)] = static_cast<char>(next_offset >> (56 - 8 * i));
  std::mt19937_64 rng(99);
  switch (tail) {
    case Tail::kHalfOfCopiedBatch: return last.substr(0, last.size() / 2);
    case Tail::kRandomBytes: return RandomBinary(rng, 777, 777);
    case Tail::kCopiedBatchWithBadCrc: {
      last[last.size() - 3] = static_cast<char>(last[last.size() - 3] ^ 0x5a);  // inside the records
      return last;
    }
    case Tail::kZeroFill: return std::string(4096, '\0');
    case Tail::kHugeLengthHeader: {
      // A plausible header claiming a 1 GiB batch, then a few bytes.
      std::string h = last.substr(0, 12);
      h[8] = 0x40;
      h[9] = h[10] = h[11] = 0;
      return h + std::string(100, 'x');
    }
  }
  return {};
}

void PrintTo(const TornTailCase& c, std::ostream* os) {
  *os << TailName(c.tail) << (c.shutdown == Shutdown::kSigterm ? " after SIGTERM" : " after kill -9");
}

class TornTailRecovery : public ::testing::TestWithParam<TornTailCase> {};

TEST_P(TornTailRecovery, BrokerTruncatesTornTailKeepsEarlierRecordsAndContinuesAtNextOffset) {
  const TornTailCase param = GetParam();
  BrokerProcess broker({"num.partitions=1"});
  ASSERT_TRUE(broker.start());
  const std::string topic = "torn-tail";

  std::vector<Delivery> deliveries;
  {
    Producer producer(broker.bootstrap(), {{"linger.ms", "0"}});
    ASSERT_TRUE(producer.ok()) << producer.error();
    std::string why;
    ASSERT_EQ(producer.wait_for_topic(topic, std::chrono::seconds(20), &why), 1) << why;
    for (std::uint64_t id = 0; id < kBatches; ++id) {
      ASSERT_EQ(producer.produce(topic, 0, MakeMixedRecord(id, kSeed), id), RD_KAFKA_RESP_ERR_NO_ERROR);
      ASSERT_EQ(producer.flush(std::chrono::seconds(30)), RD_KAFKA_RESP_ERR_NO_ERROR);  // one batch each
    }
    deliveries = producer.deliveries();
  }
  auto acked = AckedOffsets(deliveries);
  ASSERT_EQ(acked.size(), static_cast<std::size_t>(kBatches));

  if (param.shutdown == Shutdown::kSigterm) {
    ASSERT_EQ(broker.stop(), 0) << broker.stderr_tail();
  } else {
    broker.kill9();
  }

  const std::string segment_path = LastSegmentLog(broker.partition_dir(topic, 0));
  ASSERT_FALSE(segment_path.empty()) << "no .log segment in " << broker.partition_dir(topic, 0);
  const std::string segment = ReadWholeFile(segment_path);
  std::size_t valid_end = 0;
  const auto starts = BatchStarts(segment, &valid_end);
  ASSERT_FALSE(starts.empty()) << segment_path << " has no complete batch";
  ASSERT_EQ(valid_end, segment.size()) << "segment has trailing bytes before we touched it (preallocated?)";
  const std::int64_t next_offset =
      BatchBaseOffset(segment, starts.back()) + BatchRecordCount(segment, starts.back());
  ASSERT_EQ(next_offset, kBatches);

  const std::string tail = MakeTail(param.tail, segment, starts.back(), next_offset);
  ASSERT_TRUE(AppendToFile(segment_path, tail));
  ASSERT_EQ(FileSizeOrMinusOne(segment_path), static_cast<std::int64_t>(segment.size() + tail.size()));

  ASSERT_TRUE(broker.start()) << "broker must start despite a torn tail";

  Watermarks w = QueryWatermarks(broker.bootstrap(), topic, 0);
  ASSERT_TRUE(w.error.empty()) << w.error;
  EXPECT_EQ(w.high, kBatches) << "the torn bytes must not count as records";
  PartitionContents before = ReadPartition(broker.bootstrap(), topic, 0, kBatches, std::chrono::seconds(30));
  EXPECT_TRUE(before.complete);
  EXPECT_EQ(VerifyPartitionAgainstAcks(0, before, acked, [](std::uint64_t id) { return MakeMixedRecord(id, kSeed); }),
            0);
  EXPECT_EQ(FileSizeOrMinusOne(segment_path), static_cast<std::int64_t>(segment.size()))
      << "torn tail must be truncated away on recovery";

  // New produce continues right after the valid data.
  {
    Producer producer(broker.bootstrap(), {{"linger.ms", "0"}});
    ASSERT_TRUE(producer.ok());
    ASSERT_EQ(producer.produce(topic, 0, MakeMixedRecord(kBatches, kSeed), kBatches), RD_KAFKA_RESP_ERR_NO_ERROR);
    ASSERT_EQ(producer.flush(std::chrono::seconds(30)), RD_KAFKA_RESP_ERR_NO_ERROR);
    auto d = producer.deliveries();
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(d[0].err, RD_KAFKA_RESP_ERR_NO_ERROR);
    EXPECT_EQ(d[0].offset, kBatches);
    deliveries.insert(deliveries.end(), d.begin(), d.end());
  }
  acked = AckedOffsets(deliveries);
  PartitionContents after = ReadPartition(broker.bootstrap(), topic, 0, kBatches + 1, std::chrono::seconds(30));
  EXPECT_TRUE(after.complete);
  EXPECT_EQ(after.records.size(), static_cast<std::size_t>(kBatches + 1));
  EXPECT_EQ(VerifyPartitionAgainstAcks(0, after, acked, [](std::uint64_t id) { return MakeMixedRecord(id, kSeed); }),
            0);
  EXPECT_EQ(broker.stop(), 0) << broker.stderr_tail();

  // The segment on disk is now exactly valid batches, nothing torn between them.
  const std::string final_segment = ReadWholeFile(LastSegmentLog(broker.partition_dir(topic, 0)));
  std::size_t final_end = 0;
  BatchStarts(final_segment, &final_end);
  EXPECT_EQ(final_end, final_segment.size());
}

std::vector<TornTailCase> AllCases() {
  std::vector<TornTailCase> cases;
  for (Tail t : {Tail::kHalfOfCopiedBatch, Tail::kRandomBytes, Tail::kCopiedBatchWithBadCrc, Tail::kZeroFill,
                 Tail::kHugeLengthHeader}) {
    for (Shutdown s : {Shutdown::kSigterm, Shutdown::kKill9}) cases.push_back({t, s});
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(TailsAndShutdowns, TornTailRecovery, ::testing::ValuesIn(AllCases()),
                         [](const ::testing::TestParamInfo<TornTailCase>& info) {
                           return TailName(info.param.tail) +
                                  (info.param.shutdown == Shutdown::kSigterm ? "_AfterSigterm" : "_AfterKill9");
                         });

}  // namespace
}  // namespace runnel::it
