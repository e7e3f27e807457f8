// ClusterClient: a blocking Kafka client for cluster tests, on the project's own
// protocol code (BrokerClient) and its own event loop: the requests that tests
// need to look at a cluster the way a client does (Metadata from one given
// broker, CreateTopics, DescribeCluster, FindCoordinator, ListOffsets, ...).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <asio/io_context.hpp>

#include "protocol/messages/alter_partition_reassignments.h"
#include "protocol/messages/create_topics.h"
#include "protocol/messages/elect_leaders.h"
#include "protocol/messages/fetch.h"
#include "protocol/messages/list_partition_reassignments.h"
#include "protocol/messages/describe_cluster.h"
#include "protocol/messages/find_coordinator.h"
#include "protocol/messages/list_offsets.h"
#include "protocol/messages/metadata.h"
#include "protocol/messages/produce.h"
#include "replication/broker_client.h"

namespace runnel::it {

// One partition as Metadata describes it.
struct PartitionView {
  int16_t error = 0;
  int32_t leader = -1;
  int32_t leader_epoch = -1;
  std::vector<int32_t> replicas;
  std::vector<int32_t> isr;
  bool operator==(const PartitionView&) const = default;
};

// What Metadata says about the cluster, comparable across brokers.
struct ClusterView {
  int32_t controller = -1;
  std::map<int32_t, std::string> brokers;  // id -> host:port
  std::map<std::string, std::vector<PartitionView>> topics;
  bool operator==(const ClusterView&) const = default;
  // Partitions led by each broker.
  std::map<int32_t, int> leaders(const std::string& topic) const;
};

class ClusterClient {
 public:
  // "host:port" of the one broker every request goes to.
  explicit ClusterClient(const std::string& address);
  ~ClusterClient();

  template <typename Request>
  std::optional<typename Request::Response> call(Request request, std::chrono::milliseconds timeout = std::chrono::seconds(15));
  // In this version (e.g. Fetch v12, which names topics rather than ids). Views
  // into the response (Fetch records) are not kept: only their sizes are valid.
  template <typename Request>
  std::optional<typename Request::Response> call_version(Request request, int16_t version,
                                                         std::chrono::milliseconds timeout = std::chrono::seconds(15));

  // nullopt when the broker does not answer.
  std::optional<ClusterView> view(const std::vector<std::string>& topics = {});
  // The error code of the topic (0 once created), -1 when there was no answer.
  int16_t create_topic(const std::string& name, int32_t partitions, int16_t replication_factor,
                       const std::map<std::string, std::string>& configs = {}, std::string* message = nullptr);
  // The coordinator's node id for a group, -1 if none (or no answer).
  int32_t coordinator_of(const std::string& group);
  // Produces one record with `acks` (Produce v7); the partition's error code, -1 with no answer.
  int16_t produce_one(const std::string& topic, int32_t partition, const std::string& value, int16_t acks,
                      int32_t timeout_ms, std::chrono::milliseconds wait = std::chrono::seconds(30));
  // The latest offset (high watermark) of a partition as its leader says, -1 on error.
  int64_t latest_offset(const std::string& topic, int32_t partition);

 private:
  asio::io_context io_;
  std::shared_ptr<replication::BrokerClient> client_;
};

}  // namespace runnel::it
