// LeaveGroup: one member (v0-2) or a batch of members (v3+, KIP-345), possibly
// named by group instance id alone (admin removal of a static member).
#include "protocol/messages/leave_group.h"
#include "server/api_handlers.h"

namespace runnel::server {

asio::awaitable<void> handle_leave_group(BrokerContext& broker, RequestContext& context) {
  const auto request = context.decode_body<protocol::LeaveGroupRequest>();
  const int16_t version = context.version();
  std::vector<coordinator::LeavingMember> leaving;
  if (version <= 2) {
    leaving.push_back({request.member_id, std::nullopt, std::nullopt});
  } else {
    for (const auto& m : request.members) leaving.push_back({m.member_id, m.group_instance_id, m.reason});
  }
  const auto result = broker.groups.leave_group(request.group_id, leaving);
  protocol::LeaveGroupResponse response;
  if (version <= 2) {
    // One member, one error code: the group's, else the member's (as Kafka).
    ErrorCode error = result.error;
    if (error == ErrorCode::kNone && !result.members.empty()) error = result.members.front();
    response.error_code = to_wire(error);
  } else {
    response.error_code = to_wire(result.error);
    for (size_t i = 0; i < result.members.size(); ++i) {
      auto& out = response.members.emplace_back();
      out.member_id = leaving[i].member_id;
      out.group_instance_id = leaving[i].group_instance_id;
      out.error_code = to_wire(result.members[i]);
    }
  }
  context.respond(response);
  co_return;
}

}  // namespace runnel::server
