// Acceptance 4 (second half): an idle broker with a connected consumer
// parked in a long-poll fetch and an idle producer connection uses ~0% CPU
// (no busy polling).
#include <gtest/gtest.h>

#include <thread>

#include "broker_process.h"
#include "rdkafka_consumer.h"
#include "rdkafka_producer.h"

namespace runnel::it {
namespace {

TEST(IdleCpu, BrokerWithParkedLongPollConsumerUsesUnderFivePercentOfOneCore) {
  BrokerProcess broker;
  ASSERT_TRUE(broker.start());
  const std::string topic = "idle-cpu";

  Producer producer(broker.bootstrap(), {{"linger.ms", "0"}});
  ASSERT_TRUE(producer.ok()) << producer.error();
  std::string why;
  ASSERT_EQ(producer.wait_for_topic(topic, std::chrono::seconds(20), &why), 1) << why;
  // One record so the partition has data and the consumer is caught up.
  ASSERT_EQ(producer.produce(topic, 0, TestRecord{"k", "v", {}}, 0), RD_KAFKA_RESP_ERR_NO_ERROR);
  ASSERT_EQ(producer.flush(std::chrono::seconds(10)), RD_KAFKA_RESP_ERR_NO_ERROR);

  PartitionConsumer consumer(broker.bootstrap(), topic, 0, {{"fetch.wait.max.ms", "5000"}});
  ASSERT_TRUE(consumer.ok()) << consumer.error();
  ASSERT_TRUE(consumer.start(RD_KAFKA_OFFSET_BEGINNING));
  bool at_end = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!at_end && std::chrono::steady_clock::now() < deadline) {
    at_end = consumer.poll(100).kind == ConsumeEvent::Kind::kEndOfPartition;
  }
  ASSERT_TRUE(at_end) << "consumer never caught up";
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // settle (startup work, first fetch)

  const double cpu_before = broker.cpu_seconds();
  const auto wall_before = std::chrono::steady_clock::now();
  ASSERT_GE(cpu_before, 0) << "cannot read /proc/" << broker.pid() << "/stat";
  // Keep the consumer polling locally (librdkafka keeps its fetch parked on
  // the broker) for ~3 s.
  const auto idle_until = wall_before + std::chrono::seconds(3);
  while (std::chrono::steady_clock::now() < idle_until) {
    ConsumeEvent ev = consumer.poll(100);
    EXPECT_NE(ev.kind, ConsumeEvent::Kind::kRecord) << "nothing was produced";
    if (ev.kind == ConsumeEvent::Kind::kError) ADD_FAILURE() << ev.error;
    producer.poll(0);
  }
  const double cpu_after = broker.cpu_seconds();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_before).count();
  const double share = (cpu_after - cpu_before) / wall;
  std::printf("[idle-cpu] broker used %.3f s CPU over %.2f s wall (%.2f%% of one core)\n", cpu_after - cpu_before,
              wall, 100 * share);
  EXPECT_LT(share, 0.05) << "an idle broker must not busy-poll";
  EXPECT_EQ(broker.stop(), 0) << broker.stderr_tail();
}

}  // namespace
}  // namespace runnel::it
