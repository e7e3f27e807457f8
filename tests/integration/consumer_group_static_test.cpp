// Acceptance 5: static membership (KIP-345). A member with a group.instance.id
// that restarts within its session timeout gets its partitions back, and the
// other member sees no rebalance at all.
#include <gtest/gtest.h>

#include <thread>

#include "broker_process.h"
#include "group_consumer.h"
#include "group_verification.h"

namespace runnel::it {
namespace {

constexpr int kPartitions = 6;
constexpr int kPhase = 10;

GroupConsumerOptions StaticMember(const std::string& instance) {
  return {instance, "static-group", {{"group.instance.id", instance}, {"session.timeout.ms", "10000"}}, true, {}};
}

TEST(ConsumerGroupStatic, RestartedStaticMemberKeepsItsAssignmentWithoutRebalancingTheOthers) {
  BrokerProcess broker(GroupBrokerSettings(kPartitions));
  ASSERT_TRUE(broker.start());
  const std::string topic = "static-members";
  ASSERT_EQ(ProduceNumbered(broker.bootstrap(), topic, kPartitions, 0, kPhase), "");

  ConsumptionLog log;
  auto s1 = std::make_unique<GroupConsumer>(broker.bootstrap(), StaticMember("s1"));
  GroupConsumer s2(broker.bootstrap(), StaticMember("s2"));
  ASSERT_TRUE(s1->subscribe({topic}) && s2.subscribe({topic}));
  s1->start(&log);
  s2.start(&log);
  ASSERT_TRUE(WaitUntil(
      [&] {
        return log.size() >= kPartitions * kPhase && s1->assignment().size() + s2.assignment().size() == kPartitions &&
               !s1->assignment().empty() && !s2.assignment().empty();
      },
      std::chrono::seconds(60)))
      << "delivered " << log.size() << "\n" << broker.stderr_tail();
  std::this_thread::sleep_for(std::chrono::seconds(1));  // let any late rebalance settle
  const auto s1_partitions = s1->assignment();
  const auto s2_partitions = s2.assignment();
  const int s2_rebalances = s2.rebalances();

  // Restart s1: a static member sends no LeaveGroup, and the new process joins
  // under the same group.instance.id with a new member id.
  s1->close();
  s1.reset();
  ConsumptionLog after;
  GroupConsumer s1_again(broker.bootstrap(), StaticMember("s1"));
  ASSERT_TRUE(s1_again.subscribe({topic}));
  s1_again.start(&after);
  ASSERT_TRUE(WaitUntil([&] { return s1_again.assignment() == s1_partitions; }, std::chrono::seconds(20)))
      << "the restarted member did not get its partitions back\n" << broker.stderr_tail();

  ASSERT_EQ(ProduceNumbered(broker.bootstrap(), topic, kPartitions, kPhase, kPhase), "");
  ASSERT_TRUE(WaitUntil([&] { return log.size() + after.size() >= 2 * kPartitions * kPhase; }, std::chrono::seconds(60)))
      << log.size() << " + " << after.size() << "\n" << broker.stderr_tail();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));

  EXPECT_EQ(s2.rebalances(), s2_rebalances) << "the other member was rebalanced";
  EXPECT_EQ(s2.assignment(), s2_partitions);
  EXPECT_EQ(s1_again.assignment(), s1_partitions);
  for (const auto& c : after.snapshot()) {
    EXPECT_TRUE(s1_partitions.count(c.partition)) << "s1 got partition " << c.partition;
    EXPECT_GE(c.offset, kPhase) << "s1 resumed from its committed offsets";
  }
  auto all = log.snapshot();
  const auto more = after.snapshot();
  all.insert(all.end(), more.begin(), more.end());
  EXPECT_EQ(CheckExactlyOnceInOrder(all, {}, Uniform(kPartitions, 2 * kPhase)), "");
  s1_again.close();
  s2.close();
  EXPECT_EQ(broker.stop(), 0) << broker.stderr_tail();
}

}  // namespace
}  // namespace runnel::it
