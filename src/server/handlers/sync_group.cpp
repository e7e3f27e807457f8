// SyncGroup: followers wait for the leader's assignment; the leader's is stored
// durably, then everyone gets their share.
#include "common/await_callback.h"
#include "protocol/messages/sync_group.h"
#include "server/api_handlers.h"

namespace runnel::server {

asio::awaitable<void> handle_sync_group(BrokerContext& broker, RequestContext& context) {
  auto request = context.decode_body<protocol::SyncGroupRequest>();
  protocol::SyncGroupResponse response;
  // From v5 the protocol type and name are mandatory (Kafka checks this first).
  if (context.version() >= 5 && (!request.protocol_type || !request.protocol_name)) {
    response.error_code = to_wire(ErrorCode::kInconsistentGroupProtocol);
    context.respond(response);
    co_return;
  }
  coordinator::SyncGroupParams params;
  params.group_id = std::move(request.group_id);
  params.generation_id = request.generation_id;
  params.member_id = std::move(request.member_id);
  params.group_instance_id = std::move(request.group_instance_id);
  params.protocol_type = std::move(request.protocol_type);
  params.protocol_name = std::move(request.protocol_name);
  for (auto& a : request.assignments) params.assignments[a.member_id] = std::move(a.assignment);

  const auto result = co_await await_callback<coordinator::SyncResult>(
      [&](std::function<void(coordinator::SyncResult)> done) {
        broker.groups.sync_group(std::move(params), std::move(done));
      });
  response.error_code = to_wire(result.error);
  response.protocol_type = result.protocol_type;
  response.protocol_name = result.protocol_name;
  response.assignment = result.assignment;
  context.respond(response);
}

}  // namespace runnel::server
