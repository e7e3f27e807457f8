// Operations on a replicated cluster under load (issue 17's acceptance): a
// rolling restart of every broker with consumer groups running, and a partition
// reassigned to a new fourth broker while producers and consumers run.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "cluster_client.h"
#include "fault_workload.h"
#include "group_consumer.h"
#include "namespace_test_main.h"
#include "network_namespace.h"
#include "test_cluster.h"

namespace runnel::fault {
namespace {

using namespace std::chrono_literals;
using it::ClusterClient;
using it::TestCluster;
using it::WaitFor;

constexpr const char* kTopic = "faults";
constexpr int kPartitions = 6;

it::TestClusterOptions Options() {
  it::TestClusterOptions options;
  options.namespaced = true;
  options.overrides = {"default.replication.factor=3", "min.insync.replicas=2", "offsets.topic.num.partitions=6",
                       "offsets.topic.replication.factor=3"};
  return options;
}

TEST(ReplicationOperations, ARollingRestartUnderLoadSurfacesOnlyRetriableErrors) {
  RUNNEL_REQUIRE_PRIVATE_NETWORK_NAMESPACE();
  TestCluster cluster(Options());
  ASSERT_TRUE(cluster.start());
  ASSERT_EQ(ClusterClient(cluster.address(1)).create_topic(kTopic, kPartitions, 3), 0);
  ASSERT_TRUE(WaitForFullIsr(cluster, kTopic, 3, 30s));
  AckedWrites writes;
  WorkloadOptions load;
  load.topic = kTopic;
  load.partitions = kPartitions;
  Workload workload(cluster.bootstrap(), load, writes);
  workload.start();
  // A consumer group reading (and committing) the same topic throughout.
  it::ConsumptionLog group_log;
  it::GroupConsumerOptions group;
  group.name = "member";
  group.group = "rolling";
  it::GroupConsumer member(cluster.bootstrap(), group);
  ASSERT_TRUE(member.ok()) << member.error();
  ASSERT_TRUE(member.subscribe({kTopic}));
  member.start(&group_log);
  ASSERT_TRUE(WaitFor([&] { return group_log.size() > 200; }, 60s));

  const int rounds = FaultRounds(1);
  for (int round = 0; round < rounds; ++round) {
    for (int id : cluster.broker_ids()) {
      const auto stopping = std::chrono::steady_clock::now();
      ASSERT_EQ(cluster.broker(id).stop(), 0) << "broker " << id << " did not stop cleanly";
      std::printf("[figures] rolling restart: broker %d stopped in %lld ms\n", id,
                  static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                             std::chrono::steady_clock::now() - stopping)
                                             .count()));
      ASSERT_TRUE(cluster.broker(id).start());
      ASSERT_TRUE(WaitForFullIsr(cluster, kTopic, 3, 60s)) << "after restarting broker " << id;
    }
  }
  const auto committed_before = member.acked_commits();
  workload.stop();
  // The group reads on to the end and keeps its offsets across the restarts.
  const size_t total = writes.AckedCount();
  // It commits every record synchronously, so on a loaded machine (the sanitizer
  // build) it may trail far behind: wait while it makes progress, fail if it stalls.
  size_t seen = 0;
  auto last_progress = std::chrono::steady_clock::now();
  const auto give_up = last_progress + 300s;
  EXPECT_TRUE(WaitFor(
      [&] {
        const size_t now_seen = group_log.distinct();
        if (now_seen != seen) {
          seen = now_seen;
          last_progress = std::chrono::steady_clock::now();
        }
        return now_seen >= total || std::chrono::steady_clock::now() - last_progress > 20s;
      },
      300s) && group_log.distinct() >= total && std::chrono::steady_clock::now() < give_up)
      << group_log.distinct() << " of " << total << " (no progress for 20 s)";
  member.stop();
  member.close();
  for (const auto& [p, offset] : committed_before) EXPECT_GE(member.acked_commits()[p], offset);
  EXPECT_EQ(workload.failure_count(), 0u) << "an error other than a retriable one reached a producer";
  EXPECT_EQ(workload.fatal_error(), "");
  const auto report = StopAndCheck(cluster, kTopic, kPartitions, writes);
  std::printf("[figures] rolling restart: rounds=%d acked=%zu consumed=%zu group-consumed=%zu commit-failures=%zu | %s\n",
              rounds, workload.acked(), workload.consumed(), group_log.distinct(), member.commit_failures(),
              report.Summary().c_str());
  EXPECT_TRUE(report.ok()) << report.Summary();
}

TEST(ReplicationOperations, APartitionMovesToANewBrokerWhileClientsRunWithoutLoss) {
  RUNNEL_REQUIRE_PRIVATE_NETWORK_NAMESPACE();
  TestCluster cluster(Options());
  ASSERT_TRUE(cluster.start());
  ASSERT_EQ(ClusterClient(cluster.address(1)).create_topic(kTopic, kPartitions, 3), 0);
  ASSERT_TRUE(WaitForFullIsr(cluster, kTopic, 3, 30s));
  AckedWrites writes;
  WorkloadOptions load;
  load.topic = kTopic;
  load.partitions = kPartitions;
  Workload workload(cluster.bootstrap(), load, writes);
  workload.start();
  ASSERT_TRUE(WaitFor([&] { return workload.acked() > 2000; }, 60s));

  // A fourth broker joins; partition 0 moves from its preferred leader to it.
  ASSERT_TRUE(cluster.add_broker(4).start());
  // Every broker (the controller among them) knows the new one before it is named.
  ASSERT_TRUE(cluster.known_everywhere(4, 30s));
  auto view = ClusterClient(cluster.address(1)).view({kTopic});
  ASSERT_TRUE(view);
  auto replicas = view->topics.at(kTopic).at(0).replicas;
  const int32_t leaving = replicas.front();
  std::vector<int32_t> target = replicas;
  target.front() = 4;
  protocol::AlterPartitionReassignmentsRequest request;
  request.timeout_ms = 30000;
  auto& t = request.topics.emplace_back();
  t.name = kTopic;
  auto& p = t.partitions.emplace_back();
  p.partition_index = 0;
  p.replicas = target;
  const auto started = std::chrono::steady_clock::now();
  auto answer = ClusterClient(cluster.address(2)).call(request);
  ASSERT_TRUE(answer);
  ASSERT_EQ(answer->error_code, 0);
  ASSERT_EQ(answer->responses.at(0).partitions.at(0).error_code, 0);
  // Done when the replicas are the target and nothing is listed as moving.
  ASSERT_TRUE(WaitFor(
      [&] {
        auto v = ClusterClient(cluster.address(1)).view({kTopic});
        if (!v) return false;
        const auto& p0 = v->topics.at(kTopic).at(0);
        auto sorted_isr = p0.isr;
        auto sorted_target = target;
        std::sort(sorted_target.begin(), sorted_target.end());
        if (p0.replicas != target || sorted_isr != sorted_target || p0.leader < 0) return false;
        auto listed = ClusterClient(cluster.address(3)).call(protocol::ListPartitionReassignmentsRequest{});
        return listed && listed->topics.empty();
      },
      90s));
  std::printf("[figures] reassignment of %s-0 from broker %d to broker 4 done in %lld ms (%zu records acked so far)\n",
              kTopic, leaving,
              static_cast<long long>(
                  std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started)
                      .count()),
              workload.acked());
  // The old replica's log is gone from its broker.
  EXPECT_TRUE(WaitFor([&] { return !std::filesystem::exists(cluster.broker(leaving).partition_dir(kTopic, 0)); }, 30s));
  const size_t before = workload.acked();
  EXPECT_TRUE(WaitFor([&] { return workload.acked() > before + 500; }, 30s));
  workload.stop();
  EXPECT_EQ(workload.failure_count(), 0u);
  const auto report = StopAndCheck(cluster, kTopic, kPartitions, writes);
  std::printf("[figures] reassignment: acked=%zu consumed=%zu | %s\n", workload.acked(), workload.consumed(),
              report.Summary().c_str());
  EXPECT_TRUE(report.ok()) << report.Summary();
}

}  // namespace
}  // namespace runnel::fault
