// A cluster of three brokers on a real etcd, driven by real clients: one topic
// served as one system, groups whose coordinators sit on different brokers,
// a killed controller, a stopped broker leaving and rejoining.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "cluster_client.h"
#include "group_consumer.h"
#include "rdkafka_producer.h"
#include "test_cluster.h"

namespace runnel::it {
namespace {

using namespace std::chrono_literals;

TestClusterOptions ThreeBrokers() {
  TestClusterOptions options;
  options.overrides = {"default.replication.factor=3", "min.insync.replicas=2", "offsets.topic.num.partitions=10"};
  return options;
}

// Waits until every broker answers Metadata with the same view, in which the
// topics exist with a leader for each partition; returns that view.
std::optional<ClusterView> AgreedView(TestCluster& cluster, const std::vector<std::string>& topics,
                                      std::chrono::milliseconds timeout = 20s) {
  std::optional<ClusterView> agreed;
  WaitFor(
      [&] {
        std::optional<ClusterView> first;
        for (int id : cluster.broker_ids()) {
          if (!cluster.broker(id).alive()) continue;
          auto view = ClusterClient(cluster.address(id)).view(topics);
          if (!view || view->topics.size() != topics.size()) return false;
          for (const auto& [name, partitions] : view->topics)
            for (const auto& p : partitions)
              if (p.leader < 0) return false;
          if (!first) {
            first = view;
          } else if (!(*view == *first)) {
            return false;
          }
        }
        agreed = first;
        return agreed.has_value();
      },
      timeout);
  return agreed;
}

std::string KeyOf(int key) { return "key-" + std::to_string(key); }
std::string ValueOf(int key, int seq) { return KeyOf(key) + ":" + std::to_string(seq); }

TEST(Cluster, ThreeBrokersServeATwelvePartitionTopicAsOne) {
  TestCluster cluster(ThreeBrokers());
  ASSERT_TRUE(cluster.start());
  ASSERT_EQ(ClusterClient(cluster.address(1)).create_topic("rides", 12, 3), 0);
  const auto view = AgreedView(cluster, {"rides"});
  ASSERT_TRUE(view) << "the brokers never agreed on the metadata";
  EXPECT_EQ(view->brokers.size(), 3u);
  EXPECT_GE(view->controller, 1);
  const auto leaders = view->leaders("rides");
  for (int id = 1; id <= 3; ++id) EXPECT_EQ(leaders.count(id) ? leaders.at(id) : 0, 4) << "broker " << id;
  for (const auto& p : view->topics.at("rides")) {
    EXPECT_EQ(p.replicas.size(), 3u);
    EXPECT_EQ(p.isr.size(), 3u);
  }

  // 100,000 keyed acks=all records through librdkafka, then read back by a group.
  constexpr int kRecords = 100000;
  constexpr int kKeys = 500;
  {
    Producer producer(cluster.bootstrap(), {{"acks", "all"}, {"enable.idempotence", "true"}, {"linger.ms", "5"}});
    ASSERT_TRUE(producer.ok()) << producer.error();
    for (int i = 0; i < kRecords; ++i) {
      const int key = i % kKeys;
      ASSERT_EQ(producer.produce("rides", -1, TestRecord{KeyOf(key), ValueOf(key, i / kKeys), {}}, i),
                RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    ASSERT_EQ(producer.flush(120s), RD_KAFKA_RESP_ERR_NO_ERROR);
    size_t failed = 0;
    for (const auto& d : producer.deliveries()) failed += d.err != RD_KAFKA_RESP_ERR_NO_ERROR ? 1 : 0;
    ASSERT_EQ(producer.delivery_count(), static_cast<size_t>(kRecords));
    ASSERT_EQ(failed, 0u);
  }
  ConsumptionLog log;
  GroupConsumerOptions options;
  options.name = "reader";
  options.group = "rides-readers";
  options.commit_each = false;
  GroupConsumer consumer(cluster.bootstrap(), options);
  ASSERT_TRUE(consumer.ok()) << consumer.error();
  ASSERT_TRUE(consumer.subscribe({"rides"}));
  consumer.start(&log);
  EXPECT_TRUE(WaitFor([&] { return log.size() >= static_cast<size_t>(kRecords); }, 120s)) << log.size();
  consumer.stop();

  // Exactly once, and per key in order (a key lives in one partition).
  std::map<std::string, int> seen;
  std::map<std::string, int> last_seq;
  size_t out_of_order = 0;
  for (const auto& c : log.snapshot()) {
    ++seen[c.value];
    const auto colon = c.value.rfind(':');
    const std::string key = c.value.substr(0, colon);
    const int seq = std::stoi(c.value.substr(colon + 1));
    auto [it, fresh] = last_seq.try_emplace(key, seq);
    if (!fresh) {
      if (seq <= it->second) ++out_of_order;
      it->second = seq;
    }
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kRecords));
  size_t duplicates = 0;
  for (const auto& [value, count] : seen) duplicates += count > 1 ? 1 : 0;
  EXPECT_EQ(duplicates, 0u);
  EXPECT_EQ(out_of_order, 0u);

  // Metadata is identical from all three.
  const auto after = AgreedView(cluster, {"rides"}, 10s);
  EXPECT_TRUE(after.has_value());
}

TEST(Cluster, GroupsResumeFromTheirCommitsAfterTheirCoordinatorsRestart) {
  TestCluster cluster(ThreeBrokers());
  ASSERT_TRUE(cluster.start());
  ClusterClient admin(cluster.address(1));
  ASSERT_EQ(admin.create_topic("events", 3, 3), 0);
  ASSERT_TRUE(AgreedView(cluster, {"events"}));
  // Two groups whose coordinators sit on different brokers.
  std::string group_a = "group-a";
  const int32_t coordinator_a = admin.coordinator_of(group_a);
  ASSERT_GE(coordinator_a, 1);
  std::string group_b;
  int32_t coordinator_b = -1;
  for (int i = 0; i < 200 && coordinator_b < 0; ++i) {
    const std::string candidate = "group-b-" + std::to_string(i);
    const int32_t c = admin.coordinator_of(candidate);
    if (c >= 1 && c != coordinator_a) {
      group_b = candidate;
      coordinator_b = c;
    }
  }
  ASSERT_GE(coordinator_b, 1) << "no group found coordinated elsewhere";

  ASSERT_EQ(ProduceNumbered(cluster.bootstrap(), "events", 3, 0, 20), "");
  // Each group reads everything and commits.
  std::map<std::string, std::map<int32_t, int64_t>> committed;
  for (const auto& group : {group_a, group_b}) {
    ConsumptionLog log;
    GroupConsumerOptions options;
    options.name = group;
    options.group = group;
    GroupConsumer consumer(cluster.bootstrap(), options);
    ASSERT_TRUE(consumer.ok());
    ASSERT_TRUE(consumer.subscribe({"events"}));
    consumer.start(&log);
    EXPECT_TRUE(WaitFor([&] { return log.distinct() >= 60; }, 60s)) << group << ": " << log.distinct();
    consumer.stop();
    consumer.close();
    committed[group] = consumer.acked_commits();
    EXPECT_EQ(committed[group].size(), 3u) << group;
  }
  // The coordinators' brokers restart (one at a time: the group's offsets are
  // on the other replicas meanwhile).
  for (int32_t id : {coordinator_a, coordinator_b}) {
    ASSERT_EQ(cluster.broker(id).stop(), 0) << "broker " << id << " did not stop cleanly";
    ASSERT_TRUE(cluster.broker(id).start());
    ASSERT_TRUE(AgreedView(cluster, {"events", "__consumer_offsets"}, 30s));
  }
  ASSERT_EQ(ProduceNumbered(cluster.bootstrap(), "events", 3, 20, 5), "");
  // Both resume from their commits: they see only the 15 new records.
  for (const auto& group : {group_a, group_b}) {
    std::string why;
    const auto offsets = CommittedOffsets(cluster.bootstrap(), group, "events", 3, &why);
    ASSERT_EQ(offsets.size(), 3u) << why;
    for (const auto& [p, offset] : committed[group]) EXPECT_EQ(offsets.at(p), offset) << group << " partition " << p;
    ConsumptionLog log;
    GroupConsumerOptions options;
    options.name = group;
    options.group = group;
    GroupConsumer consumer(cluster.bootstrap(), options);
    ASSERT_TRUE(consumer.subscribe({"events"}));
    consumer.start(&log);
    EXPECT_TRUE(WaitFor([&] { return log.distinct() >= 15; }, 60s)) << group << ": " << log.distinct();
    std::this_thread::sleep_for(500ms);
    consumer.stop();
    EXPECT_EQ(log.distinct(), 15u) << group << " re-read records it had committed";
    for (const auto& c : log.snapshot()) EXPECT_GE(c.offset, 20) << group;
  }
}

TEST(Cluster, AnotherBrokerBecomesControllerWhenTheControllerIsKilled) {
  TestCluster cluster(ThreeBrokers());
  ASSERT_TRUE(cluster.start());
  auto before = AgreedView(cluster, {});
  ASSERT_TRUE(before);
  const int32_t controller = before->controller;
  ASSERT_GE(controller, 1);
  const auto killed_at = std::chrono::steady_clock::now();
  cluster.broker(controller).kill9();
  const int survivor = controller == 1 ? 2 : 1;
  int32_t successor = -1;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto view = ClusterClient(cluster.address(survivor)).view();
        if (!view || view->controller < 0 || view->controller == controller) return false;
        successor = view->controller;
        return true;
      },
      std::chrono::milliseconds(cluster.options().session_timeout_ms) + 2s + 3s));
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - killed_at);
  std::printf("[figures] controller %d killed; broker %d is controller after %lld ms (session timeout %lld ms)\n",
              controller, successor, static_cast<long long>(took.count()),
              static_cast<long long>(cluster.options().session_timeout_ms));
  EXPECT_LE(took, std::chrono::milliseconds(cluster.options().session_timeout_ms) + 2s);
  // Topic creation works again (RF 2: two brokers are left).
  EXPECT_EQ(ClusterClient(cluster.address(survivor)).create_topic("after-failover", 4, 2), 0);
  EXPECT_TRUE(AgreedView(cluster, {"after-failover"}));
}

TEST(Cluster, AStoppedBrokerLeavesMetadataAndRejoinsWithItsData) {
  TestCluster cluster(ThreeBrokers());
  ASSERT_TRUE(cluster.start());
  ASSERT_EQ(ClusterClient(cluster.address(1)).create_topic("solo", 3, 1, {{"min.insync.replicas", "1"}}), 0);
  auto view = AgreedView(cluster, {"solo"});
  ASSERT_TRUE(view);
  ASSERT_EQ(ProduceNumbered(cluster.bootstrap(), "solo", 3, 0, 10), "");
  // Broker 3 dies: it leaves the broker list when its session expires.
  cluster.broker(3).kill9();
  const auto stopped_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(WaitFor(
      [&] {
        auto v = ClusterClient(cluster.address(1)).view({"solo"});
        return v && !v->brokers.count(3);
      },
      std::chrono::milliseconds(cluster.options().session_timeout_ms) + 5s));
  std::printf("[figures] broker 3 left the metadata %lld ms after it was killed\n",
              static_cast<long long>(
                  std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - stopped_at)
                      .count()));
  // Its RF-1 partition is offline meanwhile: Metadata says LEADER_NOT_AVAILABLE.
  auto during = ClusterClient(cluster.address(1)).view({"solo"});
  ASSERT_TRUE(during);
  int offline = 0;
  for (const auto& p : during->topics.at("solo")) offline += p.error == 5 ? 1 : 0;
  EXPECT_EQ(offline, 1);
  ASSERT_TRUE(cluster.broker(3).start());
  ASSERT_TRUE(AgreedView(cluster, {"solo"}, 30s)) << "broker 3 did not rejoin";
  const auto ends = HighWatermarks(cluster.bootstrap(), "solo", 3);
  ASSERT_EQ(ends.size(), 3u);
  for (const auto& [p, end] : ends) EXPECT_EQ(end, 10) << "partition " << p;
}

TEST(Cluster, AReplicationFactorAboveTheLiveBrokersIsRefusedAndNothingIsCreated) {
  TestCluster cluster(ThreeBrokers());
  ASSERT_TRUE(cluster.start());
  std::string message;
  EXPECT_EQ(ClusterClient(cluster.address(2)).create_topic("too-many", 3, 4, {}, &message), 38);
  EXPECT_NE(message.find("larger than available brokers: 3"), std::string::npos) << message;
  auto view = ClusterClient(cluster.address(1)).view();
  ASSERT_TRUE(view);
  EXPECT_FALSE(view->topics.count("too-many"));
  const auto keys = cluster.etcd().etcdctl({"get", "--prefix", "--keys-only", "/runnel/topics/too-many"});
  EXPECT_EQ(keys.find("too-many"), std::string::npos) << keys;
}

}  // namespace
}  // namespace runnel::it
