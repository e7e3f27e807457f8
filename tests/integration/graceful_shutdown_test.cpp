// Issue 8, graceful shutdown: SIGTERM while acks=all produce requests are in
// flight. Every request the broker had read is answered (no error), then the
// connection closes; the broker exits 0 leaving the clean-shutdown marker and
// checkpoints; the restart skips recovery and every acknowledged record is there.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "broker_process.h"
#include "kafka_requests.h"
#include "raw_connection.h"
#include "rdkafka_consumer.h"
#include "record_batch_builder.h"

namespace runnel::it {
namespace {

namespace fs = std::filesystem;

TEST(GracefulShutdown, SigtermAnswersInFlightRequestsWritesCheckpointsAndTheRestartSkipsRecovery) {
  BrokerProcess broker({"num.partitions=1"});
  ASSERT_TRUE(broker.start());
  // The topic exists before the burst.
  {
    RawConnection c;
    ASSERT_TRUE(c.connect(broker.port()));
    ASSERT_TRUE(c.send(ProduceV3Request(0, "graceful", 0, BuildRecordBatch({TestRecord{"k", "v-0", {}}}))));
    auto frame = c.read_frame();
    ASSERT_TRUE(frame);
    auto r = ParseProduceV3Response(*frame);
    ASSERT_TRUE(r.parsed && r.partitions.size() == 1);
    if (r.partitions[0].error != 0) {  // auto-created by the first produce: retry once
      ASSERT_TRUE(c.send(ProduceV3Request(0, "graceful", 0, BuildRecordBatch({TestRecord{"k", "v-0", {}}}))));
      frame = c.read_frame();
      ASSERT_TRUE(frame);
      r = ParseProduceV3Response(*frame);
      ASSERT_EQ(r.partitions.at(0).error, 0);
    }
  }
  const std::int64_t first = QueryWatermarks(broker.bootstrap(), "graceful", 0).high;

  RawConnection conn;
  ASSERT_TRUE(conn.connect(broker.port()));
  constexpr int kRequests = 40;
  Bytes burst;
  for (int i = 0; i < kRequests; ++i) {
    const Bytes r = ProduceV3Request(100 + i, "graceful", 0,
                                     BuildRecordBatch({TestRecord{"k", "burst-" + std::to_string(i), {}}}));
    burst.insert(burst.end(), r.begin(), r.end());
  }
  ASSERT_TRUE(conn.send(burst));
  ASSERT_EQ(::kill(broker.pid(), SIGTERM), 0);

  // Answers come in request order, each without error, until the connection closes.
  int answered = 0;
  std::int64_t last_offset = first - 1;
  while (auto frame = conn.read_frame(std::chrono::seconds(30))) {
    const auto r = ParseProduceV3Response(*frame);
    ASSERT_TRUE(r.parsed && r.partitions.size() == 1);
    EXPECT_EQ(r.correlation_id, 100 + answered);
    EXPECT_EQ(r.partitions[0].error, 0) << "request " << answered << " was read but failed";
    EXPECT_EQ(r.partitions[0].base_offset, last_offset + 1);
    last_offset = r.partitions[0].base_offset;
    ++answered;
  }
  std::printf("[graceful] %d of %d pipelined produce requests answered before the connection closed\n", answered,
              kRequests);
  EXPECT_EQ(broker.stop(), 0) << broker.stderr_tail();
  EXPECT_TRUE(fs::exists(broker.log_dir() + "/.kafka_cleanshutdown"));
  EXPECT_TRUE(fs::exists(broker.log_dir() + "/recovery-point-offset-checkpoint"));

  const auto mark = fs::file_size(broker.stderr_path());
  ASSERT_TRUE(broker.start());
  std::ifstream in(broker.stderr_path());
  std::stringstream text;
  text << in.rdbuf();
  const std::string log = text.str().substr(mark);
  EXPECT_NE(log.find("(clean shutdown)"), std::string::npos) << log;
  EXPECT_EQ(log.find("recovery found"), std::string::npos) << log;
  const Watermarks w = QueryWatermarks(broker.bootstrap(), "graceful", 0);
  EXPECT_GE(w.high, first + answered) << "acknowledged records must all be there";
  const PartitionContents c = ReadPartition(broker.bootstrap(), "graceful", 0, w.high);
  ASSERT_TRUE(c.complete);
  for (int i = 0; i < answered; ++i)
    EXPECT_EQ(c.records.at(static_cast<std::size_t>(first + i)).record.value, "burst-" + std::to_string(i));
  EXPECT_EQ(broker.stop(), 0);
}

}  // namespace
}  // namespace runnel::it
