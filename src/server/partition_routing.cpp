#include "server/partition_routing.h"

namespace runnel::server {

ErrorCode absent_replica_error(BrokerContext& broker, const std::string& topic, int32_t partition) {
  const auto* image_topic = broker.cluster.image()->topic(topic);
  if (!image_topic || partition < 0 || partition >= image_topic->partition_count())
    return ErrorCode::kUnknownTopicOrPartition;
  return ErrorCode::kNotLeaderOrFollower;
}

std::optional<NodeAddress> client_address(const cluster::MetadataImage& image, int32_t broker_id,
                                          const std::string& listener) {
  const auto* broker = image.broker(broker_id);
  if (!broker) return std::nullopt;
  const auto* endpoint = broker->endpoint(listener);
  if (!endpoint && !broker->endpoints.empty()) endpoint = &broker->endpoints.front();
  if (!endpoint) return std::nullopt;
  return NodeAddress{broker_id, endpoint->host, endpoint->port, broker->rack};
}

void LeaderHints::add(BrokerContext& broker, const std::string& listener, const std::string& topic, int32_t partition) {
  const auto& image = *broker.cluster.image();
  const auto* entry = image.partition(topic, partition);
  if (!entry) return;
  leaders_[{topic, partition}] = {entry->state.leader, entry->state.leader_epoch};
  if (entry->state.leader >= 0 && !nodes_.count(entry->state.leader)) {
    if (auto address = client_address(image, entry->state.leader, listener))
      nodes_[entry->state.leader] = *address;
  }
}

const LeaderHints::Leader* LeaderHints::find(const std::string& topic, int32_t partition) const {
  auto it = leaders_.find({topic, partition});
  return it == leaders_.end() ? nullptr : &it->second;
}

void LeaderHints::fill(protocol::ProduceResponse& response, int16_t version) const {
  if (version < 10 || leaders_.empty()) return;
  for (auto& topic : response.responses) {
    for (auto& partition : topic.partition_responses) {
      if (partition.error_code != to_wire(ErrorCode::kNotLeaderOrFollower)) continue;
      if (const auto* leader = find(topic.name, partition.index)) {
        partition.current_leader.leader_id = leader->id;
        partition.current_leader.leader_epoch = leader->epoch;
      }
    }
  }
  for (const auto& [id, node] : nodes_) {
    auto& out = response.node_endpoints.emplace_back();
    out.node_id = node.node_id;
    out.host = node.host;
    out.port = node.port;
    out.rack = node.rack;
  }
}

}  // namespace runnel::server
