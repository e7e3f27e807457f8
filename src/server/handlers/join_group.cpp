// JoinGroup: hands the request to the group coordinator and answers when the
// rebalance it joined completes (or at once with an error / MEMBER_ID_REQUIRED).
#include "common/await_callback.h"
#include "protocol/messages/join_group.h"
#include "server/api_handlers.h"

namespace runnel::server {

asio::awaitable<void> handle_join_group(BrokerContext& broker, RequestContext& context) {
  auto request = context.decode_body<protocol::JoinGroupRequest>();
  const int16_t version = context.version();
  coordinator::JoinGroupParams params;
  params.group_id = std::move(request.group_id);
  params.member_id = std::move(request.member_id);
  params.group_instance_id = std::move(request.group_instance_id);
  // KIP-394: from v4 a dynamic member first gets MEMBER_ID_REQUIRED and its id.
  params.require_known_member_id = version >= 4 && !params.group_instance_id;
  params.support_skipping_assignment = version >= 9;
  params.client_id = context.header.client_id.value_or("");
  params.session_timeout_ms = request.session_timeout_ms;
  // v0 has no rebalance timeout: Kafka uses the session timeout.
  params.rebalance_timeout_ms = version == 0 ? request.session_timeout_ms : request.rebalance_timeout_ms;
  params.protocol_type = std::move(request.protocol_type);
  for (auto& p : request.protocols) params.protocols.push_back({std::move(p.name), std::move(p.metadata)});
  params.reason = request.reason.value_or("");

  const auto result = co_await await_callback<coordinator::JoinResult>(
      [&](std::function<void(coordinator::JoinResult)> done) {
        broker.groups.join_group(std::move(params), std::move(done));
      });

  protocol::JoinGroupResponse response;
  response.error_code = to_wire(result.error);
  response.generation_id = result.generation_id;
  response.protocol_type = result.protocol_type;
  // Nullable only from v7; older versions get "" for "no protocol".
  response.protocol_name = version >= 7 ? result.protocol_name : result.protocol_name.value_or("");
  response.leader = result.leader;
  response.skip_assignment = result.skip_assignment;
  response.member_id = result.member_id;
  for (const auto& m : result.members) {
    auto& out = response.members.emplace_back();
    out.member_id = m.member_id;
    out.group_instance_id = m.group_instance_id;
    out.metadata = m.metadata;
  }
  context.respond(response);
}

}  // namespace runnel::server
