// DescribeCluster: the live brokers (addresses on the listener the request came
// in on, with racks) and the controller, from the metadata image.
#include "protocol/messages/describe_cluster.h"
#include "server/api_handlers.h"
#include "server/partition_routing.h"

namespace runnel::server {

asio::awaitable<void> handle_describe_cluster(BrokerContext& broker, RequestContext& context) {
  const auto request = context.decode_body<protocol::DescribeClusterRequest>();
  protocol::DescribeClusterResponse response;
  constexpr int8_t kBrokerEndpoints = 1;
  if (context.version() >= 1 && request.endpoint_type != kBrokerEndpoints) {
    response.error_code = to_wire(ErrorCode::kMismatchedEndpointType);
    response.error_message = "Only broker endpoints are served";
  } else {
    const auto image = broker.cluster.image();
    response.endpoint_type = kBrokerEndpoints;
    response.cluster_id = broker.cluster.cluster_id();
    response.controller_id = image->controller_id();
    for (const auto& [id, registration] : image->brokers) {
      const auto address = client_address(*image, id, context.listener);
      if (!address) continue;
      auto& node = response.brokers.emplace_back();
      node.broker_id = id;
      node.host = address->host;
      node.port = address->port;
      node.rack = address->rack;
    }
  }
  context.respond(response);
  co_return;
}

}  // namespace runnel::server
