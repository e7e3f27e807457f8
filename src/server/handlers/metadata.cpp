// Metadata: this broker, and the requested topics (all when none are named),
// auto-creating unknown ones when allowed.
#include "coordinator/internal_topics.h"
#include "protocol/messages/metadata.h"
#include "server/api_handlers.h"
#include "storage/topic_name.h"

namespace runnel::server {
namespace {

using protocol::MetadataRequest;
using protocol::MetadataResponse;

void describe_topic(const BrokerContext& broker, const TopicInfo& info, MetadataResponse::MetadataResponseTopic& out) {
  out.name = info.name;
  out.topic_id = info.id;
  out.is_internal = coordinator::is_internal_topic(info.name);
  for (int32_t p = 0; p < info.partitions; ++p) {
    auto& partition = out.partitions.emplace_back();
    partition.partition_index = p;
    partition.leader_id = broker.config.node_id;
    partition.leader_epoch = 0;
    partition.replica_nodes = {broker.config.node_id};
    partition.isr_nodes = {broker.config.node_id};
  }
}

}  // namespace

asio::awaitable<void> handle_metadata(BrokerContext& broker, RequestContext& context) {
  const auto request = context.decode_body<MetadataRequest>();
  const int16_t version = context.version();
  MetadataResponse response;
  for (const auto& listener : broker.config.effective_advertised_listeners()) {
    auto& node = response.brokers.emplace_back();
    node.node_id = broker.config.node_id;
    node.host = listener.host.empty() ? "localhost" : listener.host;
    node.port = listener.port;
    break;  // one listener per broker is advertised to clients
  }
  response.cluster_id = broker.config.cluster_id;
  response.controller_id = broker.config.node_id;

  // v0: an empty list means all topics; v1+: null means all topics.
  const bool all_topics = !request.topics.has_value() || (version == 0 && request.topics->empty());
  if (all_topics) {
    for (const auto& info : broker.topics.all()) describe_topic(broker, info, response.topics.emplace_back());
  } else {
    const bool auto_create =
        broker.config.auto_create_topics_enable && (version < 4 || request.allow_auto_topic_creation);
    for (const auto& requested : *request.topics) {
      auto& out = response.topics.emplace_back();
      std::optional<TopicInfo> info;
      ErrorCode error = ErrorCode::kNone;
      if (requested.name) {
        out.name = *requested.name;
        auto [lookup_error, found] = broker.topics.find_or_create(*requested.name, auto_create);
        error = lookup_error;
        info = found;
      } else {
        out.topic_id = requested.topic_id;
        info = broker.topics.find(requested.topic_id);
        if (!info) error = ErrorCode::kUnknownTopicId;
      }
      if (info) describe_topic(broker, *info, out);
      out.error_code = to_wire(error);
    }
  }
  context.respond(response);
  co_return;
}

}  // namespace runnel::server
