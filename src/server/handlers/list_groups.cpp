// ListGroups: every group this broker coordinates, optionally only those in the
// given states (v4+, matched case-insensitively).
#include "protocol/messages/list_groups.h"
#include "server/api_handlers.h"

namespace runnel::server {

asio::awaitable<void> handle_list_groups(BrokerContext& broker, RequestContext& context) {
  const auto request = context.decode_body<protocol::ListGroupsRequest>();
  protocol::ListGroupsResponse response;
  std::set<coordinator::GroupState> states;
  for (const auto& name : request.states_filter) {
    if (auto state = coordinator::parse_group_state(name)) states.insert(*state);
  }
  // A filter naming no known state matches nothing.
  if (request.states_filter.empty() || !states.empty()) {
    const auto result = broker.groups.list_groups(states);
    response.error_code = to_wire(result.error);
    for (const auto& g : result.groups) {
      auto& out = response.groups.emplace_back();
      out.group_id = g.group_id;
      out.protocol_type = g.protocol_type;
      out.group_state = g.state;
    }
  }
  context.respond(response);
  co_return;
}

}  // namespace runnel::server
