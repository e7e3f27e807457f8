// CreatePartitions: grow a topic's partition count (never shrink).
#include <set>

#include "protocol/messages/create_partitions.h"
#include "server/api_handlers.h"

namespace runnel::server {

asio::awaitable<void> handle_create_partitions(BrokerContext& broker, RequestContext& context) {
  const auto request = context.decode_body<protocol::CreatePartitionsRequest>();
  protocol::CreatePartitionsResponse response;
  std::set<std::string> seen;
  for (const auto& topic : request.topics) {
    auto& out = response.results.emplace_back();
    out.name = topic.name;
    AdminResult result;
    if (!seen.insert(topic.name).second) {
      result = {ErrorCode::kInvalidRequest, "Duplicate topic in request"};
    } else if (topic.assignments) {
      const auto info = broker.topics.find(topic.name);
      const int32_t added = info ? topic.count - info->partitions : 0;
      if (info && static_cast<int32_t>(topic.assignments->size()) != added) {
        result = {ErrorCode::kInvalidReplicaAssignment,
                  "Increasing the number of partitions by " + std::to_string(added) + " but " +
                      std::to_string(topic.assignments->size()) + " assignments provided."};
      }
      for (const auto& assignment : *topic.assignments) {
        if (!result.ok()) break;
        if (assignment.broker_ids.size() != 1 || assignment.broker_ids.front() != broker.config.node_id) {
          result = {ErrorCode::kInvalidReplicaAssignment, "Assignments must name this broker only"};
        }
      }
    }
    if (result.ok()) result = broker.topics.add_partitions(topic.name, topic.count, request.validate_only);
    if (!result.ok()) {
      out.error_code = to_wire(result.error);
      out.error_message = result.message;
    }
  }
  context.respond(response);
  co_return;
}

}  // namespace runnel::server
