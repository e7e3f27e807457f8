// CreateTopics: validate everything first (names, partitions, replication,
// assignments, configs), then create; validate_only stops after validation.
#include "protocol/messages/create_topics.h"
#include "server/api_handlers.h"
#include <set>

namespace runnel::server {
namespace {

using protocol::CreateTopicsRequest;
using protocol::CreateTopicsResponse;

// Explicit assignments must name partitions 0..n-1, each on this broker only.
AdminResult check_assignments(const BrokerContext& broker, const CreateTopicsRequest::CreatableTopic& topic,
                              int32_t& partitions, int16_t& replication_factor) {
  if (topic.num_partitions != -1 || topic.replication_factor != -1) {
    return {ErrorCode::kInvalidRequest,
            "Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same "
            "time."};
  }
  std::vector<bool> seen(topic.assignments.size(), false);
  for (const auto& assignment : topic.assignments) {
    const auto index = assignment.partition_index;
    if (index < 0 || index >= static_cast<int32_t>(seen.size()) || seen[static_cast<size_t>(index)]) {
      return {ErrorCode::kInvalidReplicaAssignment, "Partitions should be a consecutive 0-based integer sequence"};
    }
    seen[static_cast<size_t>(index)] = true;
    if (assignment.broker_ids.empty()) return {ErrorCode::kInvalidReplicaAssignment, "Empty replica list"};
    if (assignment.broker_ids.size() > 1) {
      return {ErrorCode::kInvalidReplicationFactor, "Replication factor larger than available brokers: 1."};
    }
    if (assignment.broker_ids.front() != broker.config.node_id) {
      return {ErrorCode::kInvalidReplicaAssignment, "Unknown broker in replica assignment"};
    }
  }
  partitions = static_cast<int32_t>(topic.assignments.size());
  replication_factor = 1;
  return {};
}

}  // namespace

asio::awaitable<void> handle_create_topics(BrokerContext& broker, RequestContext& context) {
  const auto request = context.decode_body<CreateTopicsRequest>();
  CreateTopicsResponse response;
  std::set<std::string> names_seen;
  for (const auto& topic : request.topics) {
    auto& out = response.topics.emplace_back();
    out.name = topic.name;
    if (!names_seen.insert(topic.name).second) {
      out.error_code = to_wire(ErrorCode::kInvalidRequest);
      out.error_message = "Create topics request from client contains duplicate topic name";
      continue;
    }
    int32_t partitions = topic.num_partitions == -1 ? broker.config.num_partitions : topic.num_partitions;
    int16_t replication_factor =
        topic.replication_factor == -1 ? broker.config.default_replication_factor : topic.replication_factor;
    ConfigMap configs;
    AdminResult result;
    for (const auto& config : topic.configs) {
      if (!config.value) {
        result = {ErrorCode::kInvalidConfig, "Null value not supported for topic configs: " + config.name};
        break;
      }
      configs[config.name] = *config.value;
    }
    if (result.ok() && !topic.assignments.empty()) result = check_assignments(broker, topic, partitions, replication_factor);
    if (result.ok()) result = broker.topics.validate_new_topic(topic.name, partitions, replication_factor, configs);
    if (result.ok() && !request.validate_only) {
      Uuid id;
      result = broker.topics.create_topic(topic.name, partitions, configs, &id);
      out.topic_id = id;
    }
    if (!result.ok()) {
      out.error_code = to_wire(result.error);
      out.error_message = result.message;
      continue;
    }
    out.num_partitions = partitions;
    out.replication_factor = replication_factor;
    out.configs.emplace();
    for (const auto& described : broker.topics.resolver().describe(configs)) {
      auto& config = out.configs->emplace_back();
      config.name = described.name;
      config.value = described.value;
      config.read_only = false;
      config.config_source = static_cast<int8_t>(described.source);
      config.is_sensitive = false;
    }
  }
  context.respond(response);
  co_return;
}

}  // namespace runnel::server
