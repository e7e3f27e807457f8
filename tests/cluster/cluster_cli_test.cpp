// The operator's commands on a real cluster: `runnel cluster info` (racks,
// liveness, controller), `runnel topic describe` (under-replicated
// partitions), `runnel topic reassign` and `runnel cluster drain`, including
// the refusals a mistyped command must get.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "cli_runner.h"
#include "cluster_client.h"
#include "test_cluster.h"

namespace runnel::it {
namespace {

using namespace std::chrono_literals;
using clitest::CliResult;
using clitest::Describe;
using clitest::Python;
using clitest::RunCli;

TestClusterOptions RackedBrokers() {
  TestClusterOptions options;
  options.racks = {{1, "rack-a"}, {2, "rack-b"}, {3, "rack-c"}, {4, "rack-c"}};
  options.overrides = {"default.replication.factor=3", "min.insync.replicas=2", "offsets.topic.num.partitions=4"};
  return options;
}

CliResult Cli(TestCluster& cluster, std::vector<std::string> args) {
  args.insert(args.end(), {"-b", cluster.bootstrap(), "--timeout", "20s"});
  return RunCli(args, "", 150s);
}

bool HoldsReplicas(const ClusterView& view, int32_t broker) {
  for (const auto& [name, partitions] : view.topics)
    for (const auto& p : partitions)
      if (std::find(p.replicas.begin(), p.replicas.end(), broker) != p.replicas.end()) return true;
  return false;
}

TEST(ClusterCli, InfoShowsRacksAndLivenessAndDescribeShowsUnderReplicatedPartitions) {
  TestCluster cluster(RackedBrokers());
  ASSERT_TRUE(cluster.start());
  ASSERT_EQ(ClusterClient(cluster.address(1)).create_topic("watched", 3, 3), 0);

  CliResult info = Cli(cluster, {"cluster", "info", "--format", "json"});
  ASSERT_EQ(info.exit_code, 0) << Describe(info);
  EXPECT_EQ(Python("import json,sys\n"
                   "d=json.load(sys.stdin)\n"
                   "print(sorted((b['id'], b['rack'], b['alive']) for b in d['brokers']),"
                   " d['controller_id'] in (1,2,3), len(d['cluster_id']))",
                   info.out),
            "[(1, 'rack-a', True), (2, 'rack-b', True), (3, 'rack-c', True)] True 22\n");

  // Broker 3 goes away: it stays listed (it holds replicas) but not alive, and
  // every partition of the topic is under-replicated.
  ASSERT_EQ(cluster.broker(3).stop(), 0);
  ASSERT_TRUE(WaitFor(
      [&] {
        auto view = ClusterClient(cluster.address(1)).view({"watched"});
        if (!view || view->brokers.count(3)) return false;
        for (const auto& p : view->topics["watched"])
          if (p.isr.size() != 2) return false;
        return true;
      },
      30s));
  info = Cli(cluster, {"cluster", "info", "--format", "json"});
  ASSERT_EQ(info.exit_code, 0) << Describe(info);
  EXPECT_EQ(Python("import json,sys\n"
                   "d=json.load(sys.stdin)\n"
                   "print([(b['id'], b['alive']) for b in d['brokers']], d['under_replicated_partitions'] >= 3)",
                   info.out),
            "[(1, True), (2, True), (3, False)] True\n");
  CliResult table = Cli(cluster, {"cluster", "info"});
  EXPECT_EQ(table.exit_code, 0) << Describe(table);
  EXPECT_NE(table.out.find("rack-b"), std::string::npos) << table.out;

  CliResult describe = Cli(cluster, {"topic", "describe", "watched", "--no-configs", "--format", "json"});
  ASSERT_EQ(describe.exit_code, 0) << Describe(describe);
  EXPECT_EQ(Python("import json,sys\n"
                   "d=json.load(sys.stdin)\n"
                   "t=d[0] if isinstance(d, list) else d['topics'][0] if 'topics' in d else d\n"
                   "print(t['under_replicated_partitions'], [p['under_replicated'] for p in t['partitions']])",
                   describe.out),
            "3 [True, True, True]\n");
  describe = Cli(cluster, {"topic", "describe", "watched", "--no-configs"});
  EXPECT_NE(describe.out.find("under-replicated"), std::string::npos) << describe.out;

  // Back: the ISR fills up again and describe says so.
  ASSERT_TRUE(cluster.broker(3).start());
  ASSERT_TRUE(WaitFor(
      [&] {
        CliResult r = Cli(cluster, {"topic", "describe", "watched", "--no-configs"});
        return r.exit_code == 0 && r.out.find("under-replicated") == std::string::npos;
      },
      60s));
}

TEST(ClusterCli, ReassignMovesAPartitionAndDrainEmptiesABroker) {
  TestCluster cluster(RackedBrokers());
  ASSERT_TRUE(cluster.start());
  ASSERT_EQ(ClusterClient(cluster.address(1)).create_topic("moving", 2, 2), 0);
  ASSERT_EQ(ClusterClient(cluster.address(1)).create_topic("everywhere", 1, 3), 0);

  // Mistakes are refused before or by the broker, and change nothing.
  CliResult bad = Cli(cluster, {"topic", "reassign", "moving", "0=1,1"});
  EXPECT_EQ(bad.exit_code, 2) << Describe(bad);
  bad = Cli(cluster, {"topic", "reassign", "moving", "0=1,x"});
  EXPECT_EQ(bad.exit_code, 2) << Describe(bad);
  bad = Cli(cluster, {"topic", "reassign", "moving", "0=1,42"});
  EXPECT_EQ(bad.exit_code, 1) << Describe(bad);
  EXPECT_NE(bad.err.find("INVALID_REPLICA_ASSIGNMENT"), std::string::npos) << Describe(bad);
  bad = Cli(cluster, {"topic", "reassign", "no-such-topic", "0=1,2"});
  EXPECT_EQ(bad.exit_code, 1) << Describe(bad);
  EXPECT_NE(bad.err.find("UNKNOWN_TOPIC_OR_PARTITION"), std::string::npos) << Describe(bad);
  // With three brokers and replication factor 3, broker 3 cannot be emptied.
  bad = Cli(cluster, {"cluster", "drain", "3", "--dry-run"});
  EXPECT_EQ(bad.exit_code, 1) << Describe(bad);
  EXPECT_NE(bad.err.find("no other broker can take"), std::string::npos) << Describe(bad);

  CliResult moved = Cli(cluster, {"topic", "reassign", "moving", "0=3,1", "1=2,3", "--wait", "60s"});
  ASSERT_EQ(moved.exit_code, 0) << Describe(moved);
  auto view = ClusterClient(cluster.address(2)).view({"moving"});
  ASSERT_TRUE(view);
  EXPECT_EQ(view->topics["moving"][0].replicas, (std::vector<int32_t>{3, 1}));
  EXPECT_EQ(view->topics["moving"][1].replicas, (std::vector<int32_t>{2, 3}));

  // A fourth broker (same rack as 3) joins; draining 3 moves all of its replicas there.
  ASSERT_TRUE(cluster.add_broker(4).start());
  ASSERT_TRUE(cluster.known_everywhere(4, 30s));
  CliResult drained = Cli(cluster, {"cluster", "drain", "3", "--wait", "120s"});
  ASSERT_EQ(drained.exit_code, 0) << Describe(drained);
  EXPECT_NE(drained.out.find("moved off broker 3"), std::string::npos) << drained.out;
  view = ClusterClient(cluster.address(1)).view({"moving", "everywhere"});
  ASSERT_TRUE(view);
  ASSERT_EQ(view->topics.size(), 2u);
  EXPECT_FALSE(HoldsReplicas(*view, 3));
  EXPECT_TRUE(HoldsReplicas(*view, 4));
  CliResult listed = Cli(cluster, {"topic", "reassignments"});
  EXPECT_EQ(listed.exit_code, 0) << Describe(listed);
  EXPECT_NE(listed.out.find("no reassignment in progress"), std::string::npos) << listed.out;
}

}  // namespace
}  // namespace runnel::it
