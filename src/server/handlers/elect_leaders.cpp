// ElectLeaders (KIP-460): preferred (type 0) or unclean (type 1) leader election
// for the listed partitions, or every partition when the list is null, decided by
// the controller wherever it is.
#include <map>

#include "protocol/messages/elect_leaders.h"
#include "server/api_handlers.h"
#include "server/controller_routing.h"

namespace runnel::server {

asio::awaitable<void> handle_elect_leaders(BrokerContext& broker, RequestContext& context) {
  const auto request = context.decode_body<protocol::ElectLeadersRequest>();
  const auto route = co_await route_to_controller(broker, context);
  if (route == Routing::kForwarded) co_return;
  protocol::ElectLeadersResponse response;
  if (route == Routing::kNoController) {
    response.error_code = to_wire(ErrorCode::kNotController);
    context.respond(response);
    co_return;
  }
  const int8_t type = context.version() >= 1 ? request.election_type : 0;
  if (type != 0 && type != 1) {
    response.error_code = to_wire(ErrorCode::kInvalidRequest);
    context.respond(response);
    co_return;
  }
  std::optional<std::vector<cluster::PartitionRef>> partitions;
  if (request.topic_partitions) {
    partitions.emplace();
    for (const auto& t : *request.topic_partitions)
      for (int32_t p : t.partitions) partitions->push_back({t.topic, p});
  }
  const auto results = co_await broker.cluster.controller().elect_leaders(type, partitions);
  std::map<std::string, size_t> index;
  for (const auto& [ref, result] : results) {
    auto [it, inserted] = index.try_emplace(ref.topic, response.replica_election_results.size());
    if (inserted) response.replica_election_results.emplace_back().topic = ref.topic;
    auto& out = response.replica_election_results[it->second].partition_result.emplace_back();
    out.partition_id = ref.partition;
    out.error_code = to_wire(result.error);
    if (!result.ok()) out.error_message = result.message;
  }
  context.respond(response);
}

}  // namespace runnel::server
