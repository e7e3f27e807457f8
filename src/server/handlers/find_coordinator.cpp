// FindCoordinator: a single node coordinates every group itself (key type 0).
// v4+ asks for several keys at once. Transactional ids (key type 1) have no
// coordinator yet.
#include "protocol/messages/find_coordinator.h"
#include "server/api_handlers.h"

namespace runnel::server {
namespace {

using protocol::FindCoordinatorRequest;
using protocol::FindCoordinatorResponse;

constexpr int8_t kGroupKeyType = 0;
constexpr int8_t kTransactionKeyType = 1;

struct Lookup {
  ErrorCode error = ErrorCode::kNone;
  std::optional<std::string> message;
  int32_t node_id = -1;  // Kafka's Node.noNode(): id -1, host "", port -1
  std::string host;
  int32_t port = -1;
};

Lookup lookup(const BrokerContext& broker, int8_t key_type) {
  Lookup result;
  if (key_type == kTransactionKeyType) {
    result.error = ErrorCode::kCoordinatorNotAvailable;
    result.message = "transactions are not supported yet";
    return result;
  }
  if (key_type != kGroupKeyType) {
    result.error = ErrorCode::kInvalidRequest;
    result.message = "unknown coordinator key type " + std::to_string(key_type);
    return result;
  }
  const auto& listener = broker.config.effective_advertised_listeners().front();
  result.node_id = broker.config.node_id;
  result.host = listener.host.empty() ? "localhost" : listener.host;
  result.port = listener.port;
  return result;
}

}  // namespace

asio::awaitable<void> handle_find_coordinator(BrokerContext& broker, RequestContext& context) {
  const auto request = context.decode_body<FindCoordinatorRequest>();
  const Lookup found = lookup(broker, request.key_type);
  FindCoordinatorResponse response;
  if (context.version() >= 4) {
    for (const auto& key : request.coordinator_keys) {
      auto& c = response.coordinators.emplace_back();
      c.key = key;
      c.node_id = found.node_id;
      c.host = found.host;
      c.port = found.port;
      c.error_code = to_wire(found.error);
      c.error_message = found.message;
    }
  } else {
    response.error_code = to_wire(found.error);
    response.error_message = found.message;
    response.node_id = found.node_id;
    response.host = found.host;
    response.port = found.port;
  }
  context.respond(response);
  co_return;
}

}  // namespace runnel::server
