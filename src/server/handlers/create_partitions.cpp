// CreatePartitions: grow a topic's partition count (never shrink), decided by the
// controller wherever it is, which places the new replicas (or checks the
// explicit assignments).
#include <set>

#include "protocol/messages/create_partitions.h"
#include "server/api_handlers.h"
#include "server/controller_routing.h"

namespace runnel::server {

asio::awaitable<void> handle_create_partitions(BrokerContext& broker, RequestContext& context) {
  const auto request = context.decode_body<protocol::CreatePartitionsRequest>();
  const auto route = co_await route_to_controller(broker, context);
  if (route == Routing::kForwarded) {
    std::vector<std::string> grown;
    for (const auto& t : request.topics) grown.push_back(t.name);
    if (!request.validate_only) co_await wait_for_leaders(broker, grown, std::chrono::seconds(10));
    co_return;
  }
  protocol::CreatePartitionsResponse response;
  std::set<std::string> seen;
  for (const auto& topic : request.topics) {
    auto& out = response.results.emplace_back();
    out.name = topic.name;
    AdminResult result;
    if (route == Routing::kNoController) {
      result = {ErrorCode::kNotController, "No controller could be reached."};
    } else if (!seen.insert(topic.name).second) {
      result = {ErrorCode::kInvalidRequest, "Duplicate topic in request"};
    } else {
      std::vector<std::vector<int32_t>> assignments;
      if (topic.assignments)
        for (const auto& a : *topic.assignments) assignments.push_back(a.broker_ids);
      result = co_await broker.cluster.controller().create_partitions(topic.name, topic.count, assignments,
                                                                      request.validate_only);
    }
    if (!result.ok()) {
      out.error_code = to_wire(result.error);
      out.error_message = result.message;
    }
  }
  if (!request.validate_only) {
    std::vector<std::string> grown;
    for (const auto& r : response.results)
      if (r.error_code == 0) grown.push_back(r.name);
    if (!grown.empty()) co_await wait_for_leaders(broker, grown, std::chrono::seconds(10));
  }
  context.respond(response);
}

}  // namespace runnel::server
