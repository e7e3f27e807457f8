// Acceptance 3b: kill -9 the broker while an acks=all producer is running.
// After restart every acknowledged record is at its acknowledged offset,
// offsets are contiguous (no gap, no reuse), every batch decodes, and new
// records continue at the log end.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>

#include "broker_process.h"
#include "rdkafka_consumer.h"
#include "rdkafka_producer.h"
#include "record_verification.h"
#include "test_record.h"

namespace runnel::it {
namespace {

constexpr int kPartitions = 3;
constexpr std::uint64_t kSeed = 23;
constexpr std::uint64_t kMaxRecords = 2'000'000;  // hard bound on the producer loop

TestRecord Expected(std::uint64_t id) {
  TestRecord r;
  r.key = "id-" + std::to_string(id);
  std::mt19937_64 rng(kSeed * 31 + id);
  r.value = "#" + std::to_string(id) + "#" + RandomPrintable(rng, 10, 400);
  r.headers = {{"n", std::to_string(id)}};
  return r;
}

// Produces continuously from a background thread until stopped.
class BackgroundProducer {
 public:
  BackgroundProducer(const std::string& bootstrap, const std::string& topic)
      : producer_(bootstrap, {{"linger.ms", "2"},
                              {"acks", "all"},
                              {"message.timeout.ms", "60000"},
                              {"retry.backoff.ms", "50"},
                              {"reconnect.backoff.ms", "50"},
                              {"reconnect.backoff.max.ms", "200"},
                              {"queue.buffering.max.messages", "20000"}}),
        topic_(topic) {}

  bool ok() const { return producer_.ok(); }
  Producer& producer() { return producer_; }

  void start() {
    thread_ = std::thread([this] {
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
      for (std::uint64_t id = 0; id < kMaxRecords && !stop_ && std::chrono::steady_clock::now() < deadline; ++id) {
        // Short enqueue timeout: while the broker is down the queue fills up.
        while (!stop_ && producer_.produce(topic_, RD_KAFKA_PARTITION_UA, Expected(id), id,
                                           std::chrono::milliseconds(100)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
          producer_.poll(10);
        }
        produced_ = id + 1;
        producer_.poll(0);
        if (id % 64 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    });
  }

  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

  std::size_t acked() const {
    std::size_t n = 0;
    for (const auto& d : producer_.deliveries()) n += d.err == RD_KAFKA_RESP_ERR_NO_ERROR ? 1 : 0;
    return n;
  }
  std::uint64_t produced() const { return produced_; }

  ~BackgroundProducer() { stop(); }

 private:
  Producer producer_;
  std::string topic_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> produced_{0};
};

bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return condition();
}

TEST(Kill9Durability, AcknowledgedRecordsSurviveKill9DuringAcksAllProduceAndOffsetsContinueWithoutGapOrReuse) {
  BrokerProcess broker({"num.partitions=3"});
  ASSERT_TRUE(broker.start());
  const std::string topic = "kill9-durability";

  BackgroundProducer bg(broker.bootstrap(), topic);
  ASSERT_TRUE(bg.ok()) << bg.producer().error();
  std::string why;
  ASSERT_EQ(bg.producer().wait_for_topic(topic, std::chrono::seconds(20), &why), kPartitions) << why;
  bg.start();

  constexpr int kCrashes = 2;
  for (int crash = 0; crash < kCrashes; ++crash) {
    const std::size_t acked_before = bg.acked();
    ASSERT_TRUE(WaitFor([&] { return bg.acked() >= acked_before + 3000; }, std::chrono::seconds(60)))
        << "producer made no progress before crash " << crash << ": acked " << bg.acked() << "\n"
        << broker.stderr_tail();
    broker.kill9();
    const std::size_t acked_at_kill = bg.acked();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    ASSERT_TRUE(broker.start()) << "restart after kill -9 number " << crash;
    ASSERT_TRUE(WaitFor([&] { return bg.acked() >= acked_at_kill + 2000; }, std::chrono::seconds(60)))
        << "producer made no progress after restart " << crash << ": acked " << bg.acked();
  }
  bg.stop();
  EXPECT_EQ(bg.producer().flush(std::chrono::seconds(60)), RD_KAFKA_RESP_ERR_NO_ERROR);

  const auto deliveries = bg.producer().deliveries();
  const auto acked = AckedOffsets(deliveries);
  std::size_t failed = 0;
  for (const auto& d : deliveries) failed += d.err != RD_KAFKA_RESP_ERR_NO_ERROR ? 1 : 0;
  std::printf("[kill9] produced %llu, acknowledged %zu, failed %zu\n",
              static_cast<unsigned long long>(bg.produced()), acked.size(), failed);
  ASSERT_GT(acked.size(), 10000u);

  for (int p = 0; p < kPartitions; ++p) {
    SCOPED_TRACE("partition " + std::to_string(p));
    Watermarks w = QueryWatermarks(broker.bootstrap(), topic, p);
    ASSERT_TRUE(w.error.empty()) << w.error;
    PartitionContents contents = ReadPartition(broker.bootstrap(), topic, p, w.high);
    EXPECT_TRUE(contents.complete) << "read " << contents.records.size() << " of " << w.high;
    EXPECT_EQ(VerifyPartitionAgainstAcks(p, contents, acked, Expected), 0);
    // Records not acknowledged (in flight at the crash) may be present, but
    // anything present must be one of ours, intact.
    int foreign = 0;
    for (const auto& c : contents.records) {
      const std::string& v = c.record.value;
      auto end = v.find('#', 1);
      bool ok = v.size() > 2 && v[0] == '#' && end != std::string::npos;
      if (ok) ok = c.record == Expected(std::stoull(v.substr(1, end - 1)));
      if (!ok && ++foreign <= 3) ADD_FAILURE() << "offset " << c.offset << " holds a damaged record "
                                               << Describe(c.record);
    }
    // New produce continues at the log end.
    Producer tail(broker.bootstrap(), {{"linger.ms", "0"}});
    ASSERT_TRUE(tail.ok());
    ASSERT_EQ(tail.produce(topic, p, Expected(kMaxRecords + static_cast<std::uint64_t>(p)),
                           kMaxRecords + static_cast<std::uint64_t>(p)),
              RD_KAFKA_RESP_ERR_NO_ERROR);
    ASSERT_EQ(tail.flush(std::chrono::seconds(30)), RD_KAFKA_RESP_ERR_NO_ERROR);
    auto d = tail.deliveries();
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(d[0].err, RD_KAFKA_RESP_ERR_NO_ERROR);
    EXPECT_EQ(d[0].offset, w.high) << "next offset after recovery must be the high watermark";
  }
  EXPECT_EQ(broker.stop(), 0) << broker.stderr_tail();
}

}  // namespace
}  // namespace runnel::it
