// DescribeGroups: state, protocol and members of each group; a group that does
// not exist is reported as Dead without an error (as Kafka does up to v5).
#include <limits>

#include "protocol/messages/describe_groups.h"
#include "server/api_handlers.h"

namespace runnel::server {
namespace {

// Without an authorizer Kafka reports every operation a group supports:
// READ (3), DELETE (6) and DESCRIBE (8), as a bit field.
constexpr int32_t kGroupOperations = (1 << 3) | (1 << 6) | (1 << 8);

}  // namespace

asio::awaitable<void> handle_describe_groups(BrokerContext& broker, RequestContext& context) {
  const auto request = context.decode_body<protocol::DescribeGroupsRequest>();
  protocol::DescribeGroupsResponse response;
  for (const auto& group_id : request.groups) {
    const auto summary = broker.groups.describe_group(group_id);
    auto& out = response.groups.emplace_back();
    out.error_code = to_wire(summary.error);
    out.group_id = group_id;
    out.group_state = summary.state;
    out.protocol_type = summary.protocol_type;
    out.protocol_data = summary.protocol;
    out.authorized_operations =
        request.include_authorized_operations ? kGroupOperations : std::numeric_limits<int32_t>::min();
    for (const auto& m : summary.members) {
      auto& member = out.members.emplace_back();
      member.member_id = m.member_id;
      member.group_instance_id = m.group_instance_id;
      member.client_id = m.client_id;
      member.client_host = m.client_host;
      member.member_metadata = m.metadata;
      member.member_assignment = m.assignment;
    }
  }
  context.respond(response);
  co_return;
}

}  // namespace runnel::server
