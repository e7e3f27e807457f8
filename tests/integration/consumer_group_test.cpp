// Consumer groups with librdkafka against a real broker:
//  - acceptance 1: two groups read one 6-partition topic at different speeds,
//    each exactly once in partition order, with their own committed offsets;
//  - acceptance 3: a group created after the fact replays everything, and a
//    group reset (earliest, timestamp, explicit offset) replays from there.
#include <gtest/gtest.h>

#include <librdkafka/rdkafka.h>

#include <thread>

#include "broker_process.h"
#include "group_consumer.h"
#include "group_verification.h"

namespace runnel::it {
namespace {

constexpr int kPartitions = 6;

// Runs one consumer in `group` until it has delivered `expected` records (then
// a short grace period, to catch extra deliveries), and closes it.
std::vector<Consumption> ConsumeGroup(const std::string& bootstrap, const std::string& group,
                                      const std::string& topic, std::size_t expected,
                                      std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  ConsumptionLog log;
  GroupConsumer consumer(bootstrap, {"c-" + group, group, {}, true, {}});
  EXPECT_TRUE(consumer.ok()) << consumer.error();
  EXPECT_TRUE(consumer.subscribe({topic})) << consumer.error();
  consumer.start(&log);
  EXPECT_TRUE(WaitUntil([&] { return log.size() >= expected; }, timeout))
      << group << ": delivered " << log.size() << " of " << expected;
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  consumer.close();
  return log.snapshot();
}

TEST(ConsumerGroup, TwoGroupsAtDifferentSpeedsEachSeeEveryRecordOnceWithTheirOwnOffsets) {
  BrokerProcess broker(GroupBrokerSettings(kPartitions));
  ASSERT_TRUE(broker.start());
  const std::string topic = "two-groups";
  constexpr int kPerPartition = 40;
  ASSERT_EQ(ProduceNumbered(broker.bootstrap(), topic, kPartitions, 0, kPerPartition), "");
  const auto end = Uniform(kPartitions, kPerPartition);

  ConsumptionLog fast_log, slow_log;
  GroupConsumer fast(broker.bootstrap(), {"fast", "g-fast", {}, true, {}});
  GroupConsumer slow(broker.bootstrap(), {"slow", "g-slow", {}, true, std::chrono::milliseconds(25)});
  ASSERT_TRUE(fast.ok() && slow.ok());
  ASSERT_TRUE(fast.subscribe({topic}) && slow.subscribe({topic}));
  fast.start(&fast_log);
  slow.start(&slow_log);

  const std::size_t total = kPartitions * kPerPartition;
  ASSERT_TRUE(WaitUntil([&] { return fast_log.size() >= total; }, std::chrono::seconds(90)))
      << "fast group delivered " << fast_log.size() << " of " << total << "\n" << broker.stderr_tail();
  // Stop the slow group part-way; it commits every record it processed.
  ASSERT_TRUE(WaitUntil([&] { return slow_log.size() >= 30; }, std::chrono::seconds(60)));
  slow.close();
  fast.stop();
  const auto slow_first = slow_log.snapshot();
  ASSERT_LT(slow_first.size(), total) << "the slow group was not slower";

  const auto fast_committed = CommittedOffsets(broker.bootstrap(), "g-fast", topic, kPartitions);
  const auto slow_committed = CommittedOffsets(broker.bootstrap(), "g-slow", topic, kPartitions);
  EXPECT_EQ(fast_committed, end) << Describe(fast_committed);
  EXPECT_EQ(slow_committed, NextOffsets(slow_first, kPartitions))
      << "committed " << Describe(slow_committed) << " consumed up to " << Describe(NextOffsets(slow_first, kPartitions));
  EXPECT_NE(slow_committed, fast_committed);
  std::printf("[groups] fast committed %s, slow committed %s after %zu records\n", Describe(fast_committed).c_str(),
              Describe(slow_committed).c_str(), slow_first.size());

  // The slow group resumes from its own commits and finishes: exactly once overall.
  auto slow_rest = ConsumeGroup(broker.bootstrap(), "g-slow", topic, total - slow_first.size());
  std::vector<Consumption> slow_all = slow_first;
  slow_all.insert(slow_all.end(), slow_rest.begin(), slow_rest.end());
  EXPECT_EQ(CheckExactlyOnceInOrder(fast_log.snapshot(), {}, end), "");
  EXPECT_EQ(CheckExactlyOnceInOrder(slow_all, {}, end), "");
  EXPECT_EQ(CommittedOffsets(broker.bootstrap(), "g-slow", topic, kPartitions), end);
  EXPECT_EQ(fast.commit_failures() + slow.commit_failures(), 0u);
  EXPECT_EQ(broker.stop(), 0) << broker.stderr_tail();
}

// Offsets for a timestamp, as reset tools look them up (ListOffsets).
std::map<std::int32_t, std::int64_t> OffsetsForTime(const std::string& bootstrap, const std::string& topic,
                                                    std::int64_t timestamp_ms) {
  std::map<std::int32_t, std::int64_t> result;
  std::string error;
  rd_kafka_conf_t* conf = MakeConf({{"bootstrap.servers", bootstrap}}, &error);
  char errstr[256];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
  if (!rk) return result;
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(kPartitions);
  for (int p = 0; p < kPartitions; ++p) rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = timestamp_ms;
  if (rd_kafka_offsets_for_times(rk, list, 15000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    for (int i = 0; i < list->cnt; ++i) result[list->elems[i].partition] = list->elems[i].offset;
  }
  rd_kafka_topic_partition_list_destroy(list);
  rd_kafka_destroy(rk);
  return result;
}

// rd_kafka_AlterConsumerGroupOffsets: the admin API's reset (OffsetCommit with
// generation -1 on an empty group). Returns "" or an error.
std::string AlterGroupOffsets(const std::string& bootstrap, const std::string& group, const std::string& topic,
                              const std::map<std::int32_t, std::int64_t>& offsets) {
  std::string error;
  rd_kafka_conf_t* conf = MakeConf({{"bootstrap.servers", bootstrap}}, &error);
  char errstr[256];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (!rk) return errstr;
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size()));
  for (const auto& [p, o] : offsets) rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = o;
  rd_kafka_AlterConsumerGroupOffsets_t* alter = rd_kafka_AlterConsumerGroupOffsets_new(group.c_str(), list);
  rd_kafka_topic_partition_list_destroy(list);
  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk);
  rd_kafka_AlterConsumerGroupOffsets(rk, &alter, 1, nullptr, queue);
  rd_kafka_AlterConsumerGroupOffsets_destroy(alter);
  rd_kafka_event_t* event = rd_kafka_queue_poll(queue, 30000);
  std::string result = event ? "" : "no AlterConsumerGroupOffsets result in 30 s";
  if (event && rd_kafka_event_error(event)) result = rd_kafka_event_error_string(event);
  if (event && result.empty()) {
    std::size_t count = 0;
    const auto* groups =
        rd_kafka_AlterConsumerGroupOffsets_result_groups(rd_kafka_event_AlterConsumerGroupOffsets_result(event), &count);
    for (std::size_t g = 0; g < count && result.empty(); ++g) {
      if (const rd_kafka_error_t* e = rd_kafka_group_result_error(groups[g])) result = rd_kafka_error_string(e);
      const auto* parts = rd_kafka_group_result_partitions(groups[g]);
      for (int i = 0; parts && i < parts->cnt && result.empty(); ++i) {
        if (parts->elems[i].err) result = rd_kafka_err2str(parts->elems[i].err);
      }
    }
  }
  if (event) rd_kafka_event_destroy(event);
  rd_kafka_queue_destroy(queue);
  rd_kafka_destroy(rk);
  return result;
}

TEST(ConsumerGroup, LateGroupReplaysEverythingAndResetsReplayFromEarliestTimestampAndOffset) {
  BrokerProcess broker(GroupBrokerSettings(kPartitions));
  ASSERT_TRUE(broker.start());
  const std::string topic = "replay";
  constexpr int kHalf = 15;
  ASSERT_EQ(ProduceNumbered(broker.bootstrap(), topic, kPartitions, 0, kHalf), "");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const std::int64_t middle = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::system_clock::now().time_since_epoch()).count();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ASSERT_EQ(ProduceNumbered(broker.bootstrap(), topic, kPartitions, kHalf, kHalf), "");
  const auto end = Uniform(kPartitions, 2 * kHalf);
  const std::size_t total = kPartitions * 2 * kHalf;

  // A group that did not exist while the records were produced reads them all.
  auto first = ConsumeGroup(broker.bootstrap(), "late", topic, total);
  EXPECT_EQ(CheckExactlyOnceInOrder(first, {}, end), "");
  EXPECT_EQ(CommittedOffsets(broker.bootstrap(), "late", topic, kPartitions), end);

  // While a member is active, only members may commit (Kafka: UNKNOWN_MEMBER_ID).
  {
    ConsumptionLog log;
    GroupConsumer active(broker.bootstrap(), {"active", "late", {}, true, {}});
    ASSERT_TRUE(active.subscribe({topic}));
    active.start(&log);
    ASSERT_TRUE(WaitUntil([&] { return !active.assignment().empty(); }, std::chrono::seconds(30)));
    EXPECT_NE(CommitOffsetsAsSimpleConsumer(broker.bootstrap(), "late", topic, Uniform(kPartitions, 0)), "");
    active.close();
  }

  // Reset to earliest (an assign()-ed consumer's commit): everything again.
  ASSERT_EQ(CommitOffsetsAsSimpleConsumer(broker.bootstrap(), "late", topic, Uniform(kPartitions, 0)), "");
  EXPECT_EQ(CommittedOffsets(broker.bootstrap(), "late", topic, kPartitions), Uniform(kPartitions, 0));
  auto again = ConsumeGroup(broker.bootstrap(), "late", topic, total);
  EXPECT_EQ(CheckExactlyOnceInOrder(again, {}, end), "");

  // Reset to a timestamp (ListOffsets, then the admin API): the second half.
  const auto at_middle = OffsetsForTime(broker.bootstrap(), topic, middle);
  ASSERT_EQ(at_middle, Uniform(kPartitions, kHalf)) << Describe(at_middle);
  ASSERT_EQ(AlterGroupOffsets(broker.bootstrap(), "late", topic, at_middle), "");
  auto second_half = ConsumeGroup(broker.bootstrap(), "late", topic, total / 2);
  EXPECT_EQ(CheckExactlyOnceInOrder(second_half, at_middle, end), "");

  // Reset to explicit offsets: partition 2 from offset 25, the rest at the end.
  auto explicit_offsets = end;
  explicit_offsets[2] = 25;
  ASSERT_EQ(CommitOffsetsAsSimpleConsumer(broker.bootstrap(), "late", topic, explicit_offsets), "");
  auto tail = ConsumeGroup(broker.bootstrap(), "late", topic, 5);
  EXPECT_EQ(CheckExactlyOnceInOrder(tail, explicit_offsets, end), "");
  EXPECT_EQ(broker.stop(), 0) << broker.stderr_tail();
}

}  // namespace
}  // namespace runnel::it
