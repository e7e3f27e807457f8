// etcd down (paused: connections open, no answers): brokers keep serving what
// they lead from their last image, report the outage in /metrics, the
// controller steps down; when etcd answers again everything converges without
// a restart.
#include <gtest/gtest.h>

#include "cluster_client.h"
#include "group_consumer.h"
#include "http_client.h"
#include "test_cluster.h"

namespace runnel::it {
namespace {

using namespace std::chrono_literals;

double Metric(TestCluster& cluster, int id, const std::string& name) {
  const auto page = HttpGet(cluster.broker(id).http_port(), "/metrics");
  return SumMetric(ParseMetrics(page.body), name);
}

TEST(EtcdOutage, BrokersKeepServingAndConvergeWhenEtcdReturns) {
  TestClusterOptions options;
  options.overrides = {"default.replication.factor=3", "min.insync.replicas=2"};
  TestCluster cluster(options);
  ASSERT_TRUE(cluster.start());
  ASSERT_EQ(ClusterClient(cluster.address(1)).create_topic("steady", 3, 3), 0);
  ASSERT_TRUE(WaitFor([&] { return HighWatermarks(cluster.bootstrap(), "steady", 3).size() == 3; }, 20s));
  ASSERT_EQ(ProduceNumbered(cluster.bootstrap(), "steady", 3, 0, 50), "");

  cluster.etcd().pause();
  // Every broker notices, and nobody is controller without the store.
  for (int id : cluster.broker_ids()) {
    EXPECT_TRUE(WaitFor([&] { return Metric(cluster, id, "runnel_metadata_store_reachable") == 0; },
                        std::chrono::milliseconds(options.session_timeout_ms) + 10s))
        << "broker " << id;
  }
  EXPECT_TRUE(WaitFor(
      [&] {
        double controllers = 0;
        for (int id : cluster.broker_ids()) controllers += Metric(cluster, id, "runnel_cluster_is_controller");
        return controllers == 0;
      },
      std::chrono::milliseconds(options.session_timeout_ms) + 10s));
  // Meanwhile acks=all writes and reads go on: the ISR is whole, nothing needs the store.
  EXPECT_EQ(ProduceNumbered(cluster.bootstrap(), "steady", 3, 50, 50), "");
  const auto during = HighWatermarks(cluster.bootstrap(), "steady", 3);
  ASSERT_EQ(during.size(), 3u);
  for (const auto& [p, end] : during) EXPECT_EQ(end, 100) << "partition " << p;

  cluster.etcd().resume();
  // A controller again, topic creation works, writes go on.
  ASSERT_TRUE(WaitFor(
      [&] {
        double controllers = 0;
        for (int id : cluster.broker_ids()) controllers += Metric(cluster, id, "runnel_cluster_is_controller");
        return controllers == 1;
      },
      30s));
  for (int id : cluster.broker_ids()) EXPECT_EQ(Metric(cluster, id, "runnel_metadata_store_reachable"), 1);
  EXPECT_TRUE(WaitFor([&] { return ClusterClient(cluster.address(2)).create_topic("after-outage", 2, 3) == 0; }, 30s));
  EXPECT_EQ(ProduceNumbered(cluster.bootstrap(), "steady", 3, 100, 10), "");
  const auto after = HighWatermarks(cluster.bootstrap(), "steady", 3);
  ASSERT_EQ(after.size(), 3u);
  for (const auto& [p, end] : after) EXPECT_EQ(end, 110) << "partition " << p;
}

}  // namespace
}  // namespace runnel::it
