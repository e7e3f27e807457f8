// Replication features a client or an operator drives on a real cluster:
// fetching from the closest replica (KIP-392) and preferred leader election
// (ElectLeaders).
#include <gtest/gtest.h>

#include "cluster_client.h"
#include "test_cluster.h"

namespace runnel::it {
namespace {

using namespace std::chrono_literals;

protocol::FetchRequest FetchFromStart(const std::string& topic, const std::string& rack) {
  protocol::FetchRequest request;
  request.replica_id = -1;
  request.max_wait_ms = 0;
  request.min_bytes = 1;
  request.rack_id = rack;
  auto& t = request.topics.emplace_back();
  t.topic = topic;
  auto& p = t.partitions.emplace_back();
  p.partition = 0;
  p.fetch_offset = 0;
  p.partition_max_bytes = 1 << 20;
  return request;
}

bool FullIsr(TestCluster& cluster, const std::string& topic, size_t replicas) {
  auto view = ClusterClient(cluster.address(cluster.broker_ids().front())).view({topic});
  if (!view || !view->topics.count(topic)) return false;
  for (const auto& p : view->topics.at(topic))
    if (p.leader < 0 || p.isr.size() != replicas) return false;
  return true;
}

TEST(ClusterReplication, AConsumerInAFollowersRackIsSentToThatFollowerAndReadsFromIt) {
  TestClusterOptions options;
  options.racks = {{1, "rack-a"}, {2, "rack-b"}, {3, "rack-c"}};
  options.overrides = {"replica.selector.class=org.apache.kafka.common.replica.RackAwareReplicaSelector"};
  TestCluster cluster(options);
  ASSERT_TRUE(cluster.start());
  ASSERT_EQ(ClusterClient(cluster.address(1)).create_topic("near", 1, 3), 0);
  ASSERT_TRUE(WaitFor([&] { return FullIsr(cluster, "near", 3); }, 30s));
  const auto view = ClusterClient(cluster.address(1)).view({"near"});
  ASSERT_TRUE(view);
  const auto& p0 = view->topics.at("near").at(0);
  const int32_t leader = p0.leader;
  for (int i = 0; i < 10; ++i) ASSERT_EQ(ClusterClient(cluster.address(leader)).produce_one("near", 0, "v", -1, 10000), 0);
  int32_t follower = -1;
  for (int32_t r : p0.replicas)
    if (r != leader) follower = r;
  const std::string rack = options.racks.at(follower);

  // The leader points a consumer of the follower's rack at the follower...
  auto at_leader = ClusterClient(cluster.address(leader)).call_version(FetchFromStart("near", rack), 12);
  ASSERT_TRUE(at_leader);
  ASSERT_EQ(at_leader->responses.at(0).partitions.at(0).error_code, 0);
  EXPECT_EQ(at_leader->responses.at(0).partitions.at(0).preferred_read_replica, follower);
  // ...but keeps serving a consumer without a rack (or in its own rack) itself.
  auto no_rack = ClusterClient(cluster.address(leader)).call_version(FetchFromStart("near", ""), 12);
  ASSERT_TRUE(no_rack);
  EXPECT_EQ(no_rack->responses.at(0).partitions.at(0).preferred_read_replica, -1);
  EXPECT_GT(no_rack->responses.at(0).partitions.at(0).records.size, 0u);

  // The follower serves the consumer up to the high watermark.
  ASSERT_TRUE(WaitFor(
      [&] {
        auto at_follower = ClusterClient(cluster.address(follower)).call_version(FetchFromStart("near", rack), 12);
        if (!at_follower) return false;
        const auto& out = at_follower->responses.at(0).partitions.at(0);
        return out.error_code == 0 && out.high_watermark == 10 && out.records.size > 0;
      },
      20s));
}

TEST(ClusterReplication, ElectLeadersReturnsLeadershipToThePreferredReplica) {
  TestClusterOptions options;
  options.overrides = {"auto.leader.rebalance.enable=false"};
  TestCluster cluster(options);
  ASSERT_TRUE(cluster.start());
  ASSERT_EQ(ClusterClient(cluster.address(1)).create_topic("pref", 1, 3), 0);
  ASSERT_TRUE(WaitFor([&] { return FullIsr(cluster, "pref", 3); }, 30s));
  const int32_t preferred = ClusterClient(cluster.address(1)).view({"pref"})->topics.at("pref").at(0).replicas.front();
  const int asking = preferred == 1 ? 2 : 1;

  // The preferred leader restarts: leadership moves away and stays away.
  ASSERT_EQ(cluster.broker(preferred).stop(), 0);
  ASSERT_TRUE(cluster.broker(preferred).start());
  ASSERT_TRUE(WaitFor([&] { return FullIsr(cluster, "pref", 3); }, 60s));
  auto view = ClusterClient(cluster.address(asking)).view({"pref"});
  ASSERT_TRUE(view);
  ASSERT_NE(view->topics.at("pref").at(0).leader, preferred);

  protocol::ElectLeadersRequest request;
  request.election_type = 0;  // preferred
  request.timeout_ms = 20000;
  auto& tp = request.topic_partitions.emplace().emplace_back();
  tp.topic = "pref";
  tp.partitions = {0};
  auto answer = ClusterClient(cluster.address(asking)).call(request, 30s);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->error_code, 0);
  ASSERT_EQ(answer->replica_election_results.size(), 1u);
  EXPECT_EQ(answer->replica_election_results[0].partition_result.at(0).error_code, 0);
  EXPECT_TRUE(WaitFor(
      [&] {
        auto v = ClusterClient(cluster.address(asking)).view({"pref"});
        return v && v->topics.at("pref").at(0).leader == preferred;
      },
      20s));
  // Asking again: nothing to do.
  answer = ClusterClient(cluster.address(asking)).call(request, 30s);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->replica_election_results.at(0).partition_result.at(0).error_code, 84);  // ELECTION_NOT_NEEDED
}

}  // namespace
}  // namespace runnel::it
