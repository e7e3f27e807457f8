// FindCoordinator: a group's coordinator is the leader of the group's
// __consumer_offsets partition (Kafka's partitioning of group ids), wherever it
// is, so every broker answers the same. The offsets topic is created on first
// use, as in Kafka, with offsets.topic.replication.factor capped to the live
// brokers. v4+ asks for several keys at once. Transactional ids (key type 1) have
// no coordinator yet.
#include "common/internal_topics.h"
#include "coordinator/group_partitioner.h"
#include "protocol/messages/find_coordinator.h"
#include "server/api_handlers.h"
#include "server/controller_routing.h"
#include "server/partition_routing.h"

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

Lookup lookup(BrokerContext& broker, const std::string& listener, const std::string& key) {
  Lookup result;
  const auto image = broker.cluster.image();
  const auto* topic = image->topic(kOffsetsTopic);
  const auto* entry =
      topic ? topic->partition(coordinator::partition_for_group(key, std::max(1, topic->partition_count()))) : nullptr;
  const auto address = entry && entry->state.leader >= 0 ? client_address(*image, entry->state.leader, listener)
                                                         : std::nullopt;
  if (!address) {
    result.error = ErrorCode::kCoordinatorNotAvailable;
    result.message = "The coordinator is not available.";
    return result;
  }
  result.node_id = address->node_id;
  result.host = address->host;
  result.port = address->port;
  return result;
}

}  // namespace

asio::awaitable<void> handle_find_coordinator(BrokerContext& broker, RequestContext& context) {
  const auto request = context.decode_body<FindCoordinatorRequest>();
  std::vector<std::string> keys;
  if (context.version() >= 4) {
    keys = request.coordinator_keys;
  } else {
    keys.push_back(request.key);
  }
  Lookup invalid;
  bool group_keys = false;
  if (request.key_type == kTransactionKeyType) {
    invalid.error = ErrorCode::kCoordinatorNotAvailable;
    invalid.message = "transactions are not supported yet";
  } else if (request.key_type != kGroupKeyType) {
    invalid.error = ErrorCode::kInvalidRequest;
    invalid.message = "unknown coordinator key type " + std::to_string(request.key_type);
  } else {
    group_keys = true;
    co_await ensure_offsets_topic(broker);
  }
  std::vector<Lookup> found;
  for (const auto& key : keys) found.push_back(group_keys ? lookup(broker, context.listener, key) : invalid);

  FindCoordinatorResponse response;
  if (context.version() >= 4) {
    for (size_t i = 0; i < keys.size(); ++i) {
      auto& c = response.coordinators.emplace_back();
      c.key = keys[i];
      c.node_id = found[i].node_id;
      c.host = found[i].host;
      c.port = found[i].port;
      c.error_code = to_wire(found[i].error);
      c.error_message = found[i].message;
    }
  } else {
    const auto& f = found.front();
    response.error_code = to_wire(f.error);
    response.error_message = f.message;
    response.node_id = f.node_id;
    response.host = f.host;
    response.port = f.port;
  }
  context.respond(response);
}

}  // namespace runnel::server
