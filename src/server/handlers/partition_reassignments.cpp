// AlterPartitionReassignments and ListPartitionReassignments (KIP-455): move a
// partition's replicas to other brokers. The new replicas copy the data through
// the normal replication path; once they are all in the ISR the old ones are
// dropped. A null replica list cancels a reassignment in progress.
#include "protocol/messages/alter_partition_reassignments.h"
#include "protocol/messages/list_partition_reassignments.h"
#include "server/api_handlers.h"
#include "server/controller_routing.h"

namespace runnel::server {

asio::awaitable<void> handle_alter_partition_reassignments(BrokerContext& broker, RequestContext& context) {
  const auto request = context.decode_body<protocol::AlterPartitionReassignmentsRequest>();
  const auto route = co_await route_to_controller(broker, context);
  if (route == Routing::kForwarded) co_return;
  protocol::AlterPartitionReassignmentsResponse response;
  if (route == Routing::kNoController) {
    response.error_code = to_wire(ErrorCode::kNotController);
    context.respond(response);
    co_return;
  }
  std::vector<cluster::Reassignment> reassignments;
  for (const auto& topic : request.topics)
    for (const auto& p : topic.partitions) reassignments.push_back({{topic.name, p.partition_index}, p.replicas});
  const auto results = co_await broker.cluster.controller().reassign(reassignments);
  size_t i = 0;
  for (const auto& topic : request.topics) {
    auto& topic_out = response.responses.emplace_back();
    topic_out.name = topic.name;
    for (const auto& p : topic.partitions) {
      auto& out = topic_out.partitions.emplace_back();
      out.partition_index = p.partition_index;
      out.error_code = to_wire(results[i].error);
      if (!results[i].ok()) out.error_message = results[i].message;
      ++i;
    }
  }
  context.respond(response);
}

asio::awaitable<void> handle_list_partition_reassignments(BrokerContext& broker, RequestContext& context) {
  const auto request = context.decode_body<protocol::ListPartitionReassignmentsRequest>();
  protocol::ListPartitionReassignmentsResponse response;
  const auto image = broker.cluster.image();
  auto add = [&](const cluster::TopicImage& topic, int32_t p) {
    const auto* entry = topic.partition(p);
    if (!entry || (entry->state.adding_replicas.empty() && entry->state.removing_replicas.empty())) return;
    auto it = std::find_if(response.topics.begin(), response.topics.end(),
                           [&](const auto& t) { return t.name == topic.name; });
    if (it == response.topics.end()) {
      it = response.topics.emplace(response.topics.end());
      it->name = topic.name;
    }
    auto& out = it->partitions.emplace_back();
    out.partition_index = p;
    out.replicas = entry->state.replicas;
    out.adding_replicas = entry->state.adding_replicas;
    out.removing_replicas = entry->state.removing_replicas;
  };
  if (request.topics) {
    for (const auto& t : *request.topics) {
      const auto* topic = image->topic(t.name);
      if (!topic) continue;
      for (int32_t p : t.partition_indexes) add(*topic, p);
    }
  } else {
    for (const auto* topic : image->existing_topics())
      for (int32_t p = 0; p < topic->partition_count(); ++p) add(*topic, p);
  }
  context.respond(response);
  co_return;
}

}  // namespace runnel::server
