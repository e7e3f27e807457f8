// DescribeCluster: this broker, which is also the controller.
#include "protocol/messages/describe_cluster.h"
#include "server/api_handlers.h"

namespace runnel::server {

asio::awaitable<void> handle_describe_cluster(BrokerContext& broker, RequestContext& context) {
  const auto request = context.decode_body<protocol::DescribeClusterRequest>();
  protocol::DescribeClusterResponse response;
  constexpr int8_t kBrokerEndpoints = 1;
  if (context.version() >= 1 && request.endpoint_type != kBrokerEndpoints) {
    response.error_code = to_wire(ErrorCode::kMismatchedEndpointType);
    response.error_message = "Only broker endpoints are served";
  } else {
    response.endpoint_type = kBrokerEndpoints;
    response.cluster_id = broker.config.cluster_id;
    response.controller_id = broker.config.node_id;
    const auto& listener = broker.config.effective_advertised_listeners().front();
    auto& node = response.brokers.emplace_back();
    node.broker_id = broker.config.node_id;
    node.host = listener.host.empty() ? "localhost" : listener.host;
    node.port = listener.port;
  }
  context.respond(response);
  co_return;
}

}  // namespace runnel::server
