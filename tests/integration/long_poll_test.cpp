// Acceptance 4 (first half): a consumer long-polling an empty partition with
// a long fetch.wait.max.ms gets a newly produced record promptly, i.e. the
// broker wakes the parked fetch instead of waiting out max_wait.
#include <gtest/gtest.h>

#include <thread>

#include "broker_process.h"
#include "rdkafka_consumer.h"
#include "rdkafka_producer.h"

namespace runnel::it {
namespace {

constexpr int kMaxWaitMs = 5000;

// Polls until the consumer reports end-of-partition (its fetch found nothing
// new, so the next fetch it sends is a parked long-poll).
bool WaitForEndOfPartition(PartitionConsumer& consumer, std::chrono::milliseconds timeout, std::string* why) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    ConsumeEvent ev = consumer.poll(100);
    if (ev.kind == ConsumeEvent::Kind::kEndOfPartition) return true;
    if (ev.kind == ConsumeEvent::Kind::kError) *why = ev.error;
    if (ev.kind == ConsumeEvent::Kind::kRecord) *why = "unexpected record at offset " + std::to_string(ev.record.offset);
  }
  if (why->empty()) *why = "no end-of-partition event";
  return false;
}

TEST(LongPoll, ParkedFetchOnEmptyPartitionIsWokenByNewRecordWellBeforeMaxWait) {
  BrokerProcess broker;
  ASSERT_TRUE(broker.start());
  const std::string topic = "long-poll";

  Producer producer(broker.bootstrap(), {{"linger.ms", "0"}, {"acks", "all"}});
  ASSERT_TRUE(producer.ok()) << producer.error();
  std::string why;
  ASSERT_EQ(producer.wait_for_topic(topic, std::chrono::seconds(20), &why), 1) << why;

  PartitionConsumer consumer(broker.bootstrap(), topic, 0,
                             {{"fetch.wait.max.ms", std::to_string(kMaxWaitMs)}, {"fetch.min.bytes", "1"}});
  ASSERT_TRUE(consumer.ok()) << consumer.error();
  ASSERT_TRUE(consumer.start(RD_KAFKA_OFFSET_BEGINNING)) << consumer.error();
  ASSERT_TRUE(WaitForEndOfPartition(consumer, std::chrono::seconds(20), &why)) << why;

  constexpr int kRounds = 3;
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    // Let the consumer's next fetch reach the broker and park there.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    TestRecord record{"k" + std::to_string(round), "long-poll value " + std::to_string(round), {}};
    const auto sent = std::chrono::steady_clock::now();
    ASSERT_EQ(producer.produce(topic, 0, record, static_cast<std::uint64_t>(round)), RD_KAFKA_RESP_ERR_NO_ERROR);
    producer.poll(0);

    std::optional<std::chrono::steady_clock::time_point> received;
    const auto deadline = sent + std::chrono::milliseconds(3 * kMaxWaitMs);
    while (!received && std::chrono::steady_clock::now() < deadline) {
      ConsumeEvent ev = consumer.poll(50);
      producer.poll(0);
      if (ev.kind == ConsumeEvent::Kind::kError) ADD_FAILURE() << "consumer error: " << ev.error;
      if (ev.kind == ConsumeEvent::Kind::kRecord) {
        received = std::chrono::steady_clock::now();
        EXPECT_EQ(ev.record.offset, round);
        EXPECT_EQ(ev.record.record.value, record.value);
      }
    }
    ASSERT_TRUE(received.has_value()) << "record never arrived within 3 x max_wait";
    const auto latency = std::chrono::duration_cast<std::chrono::milliseconds>(*received - sent).count();
    std::printf("[long-poll] round %d: record arrived %lld ms after produce (max_wait %d ms)\n", round,
                static_cast<long long>(latency), kMaxWaitMs);
    EXPECT_LT(latency, kMaxWaitMs / 2) << "a parked fetch must be woken by the append, not by max_wait";
    if (round + 1 < kRounds) {
      ASSERT_TRUE(WaitForEndOfPartition(consumer, std::chrono::seconds(20), &why)) << why;
    }
  }
  ASSERT_EQ(producer.flush(std::chrono::seconds(10)), RD_KAFKA_RESP_ERR_NO_ERROR);
  EXPECT_EQ(broker.stop(), 0) << broker.stderr_tail();
}

}  // namespace
}  // namespace runnel::it
