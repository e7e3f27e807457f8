// DeleteGroups: removes empty groups and their offsets (tombstones in
// __consumer_offsets); answered once the tombstones are durable.
#include "common/await_callback.h"
#include "protocol/messages/delete_groups.h"
#include "server/api_handlers.h"

namespace runnel::server {

asio::awaitable<void> handle_delete_groups(BrokerContext& broker, RequestContext& context) {
  const auto request = context.decode_body<protocol::DeleteGroupsRequest>();
  const auto errors = co_await await_callback<std::vector<ErrorCode>>(
      [&](std::function<void(std::vector<ErrorCode>)> done) {
        broker.groups.delete_groups(request.groups_names, std::move(done));
      });
  protocol::DeleteGroupsResponse response;
  for (size_t i = 0; i < request.groups_names.size(); ++i) {
    auto& out = response.results.emplace_back();
    out.group_id = request.groups_names[i];
    out.error_code = to_wire(i < errors.size() ? errors[i] : ErrorCode::kUnknownServerError);
  }
  context.respond(response);
}

}  // namespace runnel::server
