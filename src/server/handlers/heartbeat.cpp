// Heartbeat: keeps a member's session alive and tells it when to rejoin.
#include "protocol/messages/heartbeat.h"
#include "server/api_handlers.h"

namespace runnel::server {

asio::awaitable<void> handle_heartbeat(BrokerContext& broker, RequestContext& context) {
  const auto request = context.decode_body<protocol::HeartbeatRequest>();
  protocol::HeartbeatResponse response;
  response.error_code = to_wire(
      broker.groups.heartbeat(request.group_id, request.member_id, request.group_instance_id, request.generation_id));
  context.respond(response);
  co_return;
}

}  // namespace runnel::server
