// Acceptance 2: a group of three shares a 6-partition topic; one member leaves
// cleanly, another (kcat -G in a child process) is SIGKILLed. The survivor takes
// over within the session timeout, nothing is lost, and only records the killed
// member had not committed are delivered again. Run with the eager assignors
// and with cooperative-sticky.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "broker_process.h"
#include "file_util.h"
#include "group_consumer.h"
#include "group_verification.h"

namespace runnel::it {
namespace {

constexpr int kPartitions = 6;
constexpr int kPhase = 20;  // records per partition per phase
constexpr auto kSessionTimeout = std::chrono::milliseconds(3000);

struct Strategy {
  const char* name;
  const char* assignors;
};

class ConsumerGroupFailover : public ::testing::TestWithParam<Strategy> {};

std::size_t Delivered(const ConsumptionLog& log, const KcatGroupMember& kcat) {
  std::set<std::pair<std::int32_t, std::int64_t>> seen;
  for (const auto& c : log.snapshot()) seen.emplace(c.partition, c.offset);
  for (const auto& c : kcat.consumed("kcat")) seen.emplace(c.partition, c.offset);
  return seen.size();
}

TEST_P(ConsumerGroupFailover, SurvivorsTakeOverAfterALeaveAndACrashWithoutLosingRecords) {
  const Strategy strategy = GetParam();
  BrokerProcess broker(GroupBrokerSettings(kPartitions));
  ASSERT_TRUE(broker.start());
  const std::string topic = std::string("failover-") + strategy.name;
  const std::string group = std::string("group-") + strategy.name;
  const ClientConfig overrides = {{"partition.assignment.strategy", strategy.assignors}};
  ASSERT_EQ(ProduceNumbered(broker.bootstrap(), topic, kPartitions, 0, kPhase), "");

  ConsumptionLog log;
  GroupConsumer a(broker.bootstrap(), {"a", group, overrides, true, std::chrono::milliseconds(2)});
  GroupConsumer b(broker.bootstrap(), {"b", group, overrides, true, std::chrono::milliseconds(2)});
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(a.subscribe({topic}) && b.subscribe({topic}));
  const std::string dir = MakeTempDir("runnel-failover-");
  // kcat commits on its own every second: at the kill its last records are uncommitted.
  KcatGroupMember c(broker.bootstrap(), group, topic, dir + "/kcat.out",
                    {std::string("partition.assignment.strategy=") + strategy.assignors, "auto.commit.interval.ms=1000"});
  ASSERT_TRUE(c.running());
  a.start(&log);
  b.start(&log);

  // Phase 1: all three share the partitions.
  ASSERT_TRUE(WaitUntil([&] { return Delivered(log, c) >= kPartitions * kPhase; }, std::chrono::seconds(90)))
      << "delivered " << Delivered(log, c) << "\n" << broker.stderr_tail();
  ASSERT_TRUE(WaitUntil([&] { return a.assignment().size() + b.assignment().size() < kPartitions; },
                        std::chrono::seconds(30)))
      << "kcat never got partitions";

  // Phase 2: b leaves cleanly (LeaveGroup); a and kcat share its partitions.
  b.close();
  ASSERT_EQ(ProduceNumbered(broker.bootstrap(), topic, kPartitions, kPhase, kPhase), "");
  ASSERT_TRUE(WaitUntil([&] { return Delivered(log, c) >= 2 * kPartitions * kPhase; }, std::chrono::seconds(90)))
      << "delivered " << Delivered(log, c) << "\n" << broker.stderr_tail();
  std::set<std::int32_t> kcat_partitions;
  for (int p = 0; p < kPartitions; ++p) {
    if (!a.assignment().count(p)) kcat_partitions.insert(p);
  }
  ASSERT_FALSE(kcat_partitions.empty());

  // Phase 3: kcat crashes; what it consumed but had not committed comes again.
  c.kill9();
  const auto killed_at = std::chrono::steady_clock::now();
  const auto committed_at_kill = CommittedOffsets(broker.bootstrap(), group, topic, kPartitions);
  ASSERT_EQ(committed_at_kill.size(), static_cast<std::size_t>(kPartitions));
  ASSERT_EQ(ProduceNumbered(broker.bootstrap(), topic, kPartitions, 2 * kPhase, kPhase), "");
  const std::size_t total = 3 * kPartitions * kPhase;
  ASSERT_TRUE(WaitUntil([&] { return Delivered(log, c) >= total && a.assignment().size() == kPartitions; },
                        std::chrono::seconds(60)))
      << "delivered " << Delivered(log, c) << " of " << total << "\n" << broker.stderr_tail();

  // a took over the killed member's partitions within the session timeout (plus
  // the heartbeat, rejoin and fetch that follow its detection).
  auto takeover = std::chrono::steady_clock::time_point::max();
  for (const auto& e : log.snapshot()) {
    if (e.at > killed_at && kcat_partitions.count(e.partition)) takeover = std::min(takeover, e.at);
  }
  const auto takeover_ms = std::chrono::duration_cast<std::chrono::milliseconds>(takeover - killed_at).count();
  EXPECT_LT(takeover_ms, (kSessionTimeout + std::chrono::seconds(3)).count());

  // Nothing lost; the only repeats are records kcat consumed after its last commit.
  std::map<std::pair<std::int32_t, std::int64_t>, int> times;
  auto all = log.snapshot();
  const auto by_kcat = c.consumed("kcat");
  all.insert(all.end(), by_kcat.begin(), by_kcat.end());
  for (const auto& e : all) {
    ++times[{e.partition, e.offset}];
    EXPECT_EQ(e.value, "p" + std::to_string(e.partition) + "-" + std::to_string(e.offset));
  }
  EXPECT_EQ(times.size(), total) << "every record delivered";
  std::set<std::pair<std::int32_t, std::int64_t>> kcat_seen;
  for (const auto& e : by_kcat) kcat_seen.emplace(e.partition, e.offset);
  int repeats = 0;
  for (const auto& [key, n] : times) {
    if (n == 1) continue;
    ++repeats;
    EXPECT_EQ(n, 2) << "partition " << key.first << " offset " << key.second;
    EXPECT_TRUE(kcat_seen.count(key) && key.second >= committed_at_kill.at(key.first))
        << "partition " << key.first << " offset " << key.second << " redelivered although committed (at "
        << committed_at_kill.at(key.first) << ")";
  }
  std::printf("[failover %s] kcat owned %zu partitions, takeover after %lld ms, %d uncommitted records redelivered\n",
              strategy.name, kcat_partitions.size(), static_cast<long long>(takeover_ms), repeats);
  a.close();
  EXPECT_EQ(CommittedOffsets(broker.bootstrap(), group, topic, kPartitions), Uniform(kPartitions, 3 * kPhase));
  EXPECT_EQ(broker.stop(), 0) << broker.stderr_tail();
  if (!::testing::Test::HasFailure()) RemoveTree(dir);
}

INSTANTIATE_TEST_SUITE_P(Assignors, ConsumerGroupFailover,
                         ::testing::Values(Strategy{"eager", "range,roundrobin"},
                                           Strategy{"cooperative", "cooperative-sticky"}),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace runnel::it
