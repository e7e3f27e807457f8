// Acceptance 4: kill -9 of the broker while two groups consume and commit.
// After the restart every group resumes exactly at its last acknowledged commit
// (or one record later, when the kill hit between a commit becoming durable and
// its acknowledgement reaching the client).
#include <gtest/gtest.h>

#include <thread>

#include "broker_process.h"
#include "group_consumer.h"
#include "group_verification.h"

namespace runnel::it {
namespace {

constexpr int kPartitions = 6;
constexpr int kPerPartition = 200;

TEST(ConsumerGroupDurability, GroupsResumeFromTheirLastAcknowledgedCommitAfterKill9) {
  // A small offsets topic: the groups share partitions with other groups' data.
  BrokerProcess broker(GroupBrokerSettings(kPartitions, {"offsets.topic.num.partitions=3"}));
  ASSERT_TRUE(broker.start());
  const std::string topic = "kill9-groups";
  ASSERT_EQ(ProduceNumbered(broker.bootstrap(), topic, kPartitions, 0, kPerPartition), "");
  const auto end = Uniform(kPartitions, kPerPartition);
  const std::vector<std::string> groups = {"durable-1", "durable-2"};

  std::vector<std::unique_ptr<ConsumptionLog>> logs;
  std::vector<std::unique_ptr<GroupConsumer>> consumers;
  for (const auto& group : groups) {
    logs.push_back(std::make_unique<ConsumptionLog>());
    for (int i = 0; i < 2; ++i) {
      consumers.push_back(std::make_unique<GroupConsumer>(
          broker.bootstrap(), GroupConsumerOptions{group + "-" + std::to_string(i), group, {}, true,
                                                   std::chrono::milliseconds(3)}));
      ASSERT_TRUE(consumers.back()->subscribe({topic}));
      consumers.back()->start(logs.back().get());
    }
  }
  // Kill while both groups are mid-way through the topic.
  ASSERT_TRUE(WaitUntil([&] { return logs[0]->size() >= 150 && logs[1]->size() >= 150; }, std::chrono::seconds(90)))
      << logs[0]->size() << " / " << logs[1]->size() << "\n" << broker.stderr_tail();
  broker.kill9();
  // The consumers stop after the record they are on: a synchronous commit in
  // flight waits for the broker to come back, then counts as acknowledged or not.
  for (auto& consumer : consumers) consumer->request_stop();
  ASSERT_TRUE(broker.start());
  // They vanish without LeaveGroup or a final commit.
  std::vector<std::map<std::int32_t, std::int64_t>> acked(groups.size());
  for (std::size_t i = 0; i < consumers.size(); ++i) {
    consumers[i]->abandon();
    for (const auto& [p, o] : consumers[i]->acked_commits()) {
      auto& slot = acked[i / 2][p];
      slot = std::max(slot, o);
    }
  }
  ASSERT_LT(logs[0]->size(), static_cast<std::size_t>(kPartitions * kPerPartition));

  for (std::size_t g = 0; g < groups.size(); ++g) {
    SCOPED_TRACE(groups[g]);
    const auto consumed = logs[g]->snapshot();
    const auto consumed_up_to = NextOffsets(consumed, kPartitions);
    const auto committed = CommittedOffsets(broker.bootstrap(), groups[g], topic, kPartitions);
    ASSERT_EQ(committed.size(), static_cast<std::size_t>(kPartitions));
    for (int p = 0; p < kPartitions; ++p) {
      const std::int64_t last_acked = acked[g].count(p) ? acked[g][p] : -1;
      // With one synchronous commit per record, at most the next one was in flight.
      const std::int64_t in_flight = last_acked < 0 ? 1 : last_acked + 1;
      EXPECT_TRUE(committed.at(p) == last_acked || committed.at(p) == in_flight)
          << "partition " << p << ": committed " << committed.at(p) << ", last acknowledged " << last_acked;
      EXPECT_LE(committed.at(p), std::max<std::int64_t>(consumed_up_to.at(p), last_acked)) << "partition " << p;
    }
    std::printf("[kill9 groups] %s acknowledged %s, committed after restart %s\n", groups[g].c_str(),
                Describe(acked[g]).c_str(), Describe(committed).c_str());

    // A new member resumes exactly at the committed offsets.
    ConsumptionLog rest;
    GroupConsumer resumed(broker.bootstrap(), {"resumed", groups[g], {}, true, {}});
    ASSERT_TRUE(resumed.subscribe({topic}));
    resumed.start(&rest);
    std::size_t remaining = 0;
    std::map<std::int32_t, std::int64_t> from;
    for (int p = 0; p < kPartitions; ++p) {
      from[p] = std::max<std::int64_t>(committed.at(p), 0);
      remaining += static_cast<std::size_t>(kPerPartition - from[p]);
    }
    // Old members are loaded from the log: the new one waits out their sessions.
    EXPECT_TRUE(WaitUntil([&] { return rest.size() >= remaining; }, std::chrono::seconds(60)))
        << rest.size() << " of " << remaining << "\n" << broker.stderr_tail();
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    resumed.close();
    EXPECT_EQ(CheckExactlyOnceInOrder(rest.snapshot(), from, end), "");
    EXPECT_EQ(CommittedOffsets(broker.bootstrap(), groups[g], topic, kPartitions), end);
  }
  EXPECT_EQ(broker.stop(), 0) << broker.stderr_tail();
}

}  // namespace
}  // namespace runnel::it
