// CreateTopics: validated and decided by the controller (names, partitions,
// replication factor against the live brokers, explicit assignments, configs),
// wherever it is; validate_only stops after validation. Answered once this
// broker's image shows the new topics with their leaders.
#include <set>

#include "protocol/messages/create_topics.h"
#include "server/api_handlers.h"
#include "server/controller_routing.h"

namespace runnel::server {
namespace {

using protocol::CreateTopicsRequest;
using protocol::CreateTopicsResponse;
using Clock = std::chrono::steady_clock;

std::chrono::milliseconds wait_of(const CreateTopicsRequest& request) {
  return std::chrono::milliseconds(std::clamp(request.timeout_ms, 0, 60000));
}

}  // namespace

asio::awaitable<void> handle_create_topics(BrokerContext& broker, RequestContext& context) {
  const auto request = context.decode_body<CreateTopicsRequest>();
  const auto route = co_await route_to_controller(broker, context);
  if (route == Routing::kForwarded) {
    // Answer once this broker sees what the controller created, so a client's
    // next request here finds the topics.
    CreateTopicsResponse forwarded;
    try {
      protocol::Reader reader(context.response_body);
      forwarded.decode(reader, context.version());
    } catch (const protocol::DecodeError&) {
      co_return;  // relayed as is
    }
    std::vector<std::string> created;
    for (const auto& t : forwarded.topics)
      if (t.error_code == 0 && !request.validate_only) created.push_back(t.name);
    if (!created.empty()) co_await wait_for_leaders(broker, created, wait_of(request));
    co_return;
  }
  CreateTopicsResponse response;
  std::set<std::string> names_seen;
  std::vector<cluster::NewTopic> topics;
  std::vector<size_t> positions;  // response index of each topic sent to the controller
  for (const auto& topic : request.topics) {
    auto& out = response.topics.emplace_back();
    out.name = topic.name;
    auto fail = [&](ErrorCode error, std::string message) {
      out.error_code = to_wire(error);
      out.error_message = std::move(message);
    };
    if (route == Routing::kNoController) {
      fail(ErrorCode::kNotController, "No controller could be reached.");
      continue;
    }
    if (!names_seen.insert(topic.name).second) {
      fail(ErrorCode::kInvalidRequest, "Create topics request from client contains duplicate topic name");
      continue;
    }
    cluster::NewTopic t;
    t.name = topic.name;
    t.partitions = topic.num_partitions;
    t.replication_factor = topic.replication_factor;
    bool ok = true;
    for (const auto& config : topic.configs) {
      if (!config.value) {
        fail(ErrorCode::kInvalidConfig, "Null value not supported for topic configs: " + config.name);
        ok = false;
        break;
      }
      t.configs[config.name] = *config.value;
    }
    if (ok && !topic.assignments.empty()) {
      if (topic.num_partitions != -1 || topic.replication_factor != -1) {
        fail(ErrorCode::kInvalidRequest,
             "Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the "
             "same time.");
        ok = false;
      }
      std::vector<std::vector<int32_t>> assignment(topic.assignments.size());
      std::vector<bool> seen(topic.assignments.size(), false);
      for (const auto& a : topic.assignments) {
        const auto index = a.partition_index;
        if (!ok) break;
        if (index < 0 || index >= static_cast<int32_t>(seen.size()) || seen[static_cast<size_t>(index)]) {
          fail(ErrorCode::kInvalidReplicaAssignment, "Partitions should be a consecutive 0-based integer sequence");
          ok = false;
          break;
        }
        seen[static_cast<size_t>(index)] = true;
        assignment[static_cast<size_t>(index)] = a.broker_ids;
      }
      t.assignments = std::move(assignment);
    }
    if (!ok) continue;
    topics.push_back(std::move(t));
    positions.push_back(response.topics.size() - 1);
  }
  if (!topics.empty()) {
    const auto results = co_await broker.cluster.controller().create_topics(topics, request.validate_only);
    std::vector<std::string> created;
    for (size_t i = 0; i < results.size(); ++i) {
      auto& out = response.topics[positions[i]];
      const auto& r = results[i];
      if (!r.result.ok()) {
        out.error_code = to_wire(r.result.error);
        out.error_message = r.result.message;
        continue;
      }
      out.topic_id = r.id;
      out.num_partitions = r.partitions;
      out.replication_factor = r.replication_factor;
      out.configs.emplace();
      for (const auto& described : broker.resolver.describe(topics[i].configs)) {
        auto& config = out.configs->emplace_back();
        config.name = described.name;
        config.value = described.value;
        config.read_only = false;
        config.config_source = static_cast<int8_t>(described.source);
        config.is_sensitive = false;
      }
      if (!request.validate_only) created.push_back(topics[i].name);
    }
    if (!created.empty()) co_await wait_for_leaders(broker, created, wait_of(request));
  }
  context.respond(response);
}

}  // namespace runnel::server
