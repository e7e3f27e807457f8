// Metadata: the live brokers (their addresses on the listener the request came
// in on), the controller, and the requested topics (all when none are named) with
// each partition's leader, leader epoch (KIP-320), replicas, ISR and offline
// replicas, from this broker's metadata image, so every broker answers the same.
// Unknown topics are auto-created when allowed.
#include "common/internal_topics.h"
#include "protocol/messages/metadata.h"
#include "server/api_handlers.h"
#include "server/controller_routing.h"
#include "server/partition_routing.h"

namespace runnel::server {
namespace {

using protocol::MetadataRequest;
using protocol::MetadataResponse;

void describe_topic(const cluster::MetadataImage& image, const cluster::TopicImage& topic,
                    MetadataResponse::MetadataResponseTopic& out) {
  out.name = topic.name;
  out.topic_id = topic.id();
  out.is_internal = is_internal_topic(topic.name);
  for (int32_t p = 0; p < topic.partition_count(); ++p) {
    auto& partition = out.partitions.emplace_back();
    partition.partition_index = p;
    const auto* entry = topic.partition(p);
    if (!entry) {
      // Being created: no state written yet.
      partition.error_code = to_wire(ErrorCode::kLeaderNotAvailable);
      partition.leader_id = -1;
      continue;
    }
    const auto& state = entry->state;
    partition.leader_id = state.leader;
    partition.leader_epoch = state.leader_epoch;
    partition.replica_nodes = state.replicas;
    partition.isr_nodes = state.isr;
    for (int32_t r : state.replicas)
      if (!image.alive(r)) partition.offline_replicas.push_back(r);
    if (state.leader < 0 || !image.alive(state.leader)) {
      partition.leader_id = -1;
      partition.error_code = to_wire(ErrorCode::kLeaderNotAvailable);
    }
  }
}

}  // namespace

asio::awaitable<void> handle_metadata(BrokerContext& broker, RequestContext& context) {
  const auto request = context.decode_body<MetadataRequest>();
  const int16_t version = context.version();
  MetadataResponse response;

  // v0: an empty list means all topics; v1+: null means all topics.
  const bool all_topics = !request.topics.has_value() || (version == 0 && request.topics->empty());
  std::vector<ErrorCode> errors;
  if (!all_topics) {
    const bool auto_create =
        broker.config.auto_create_topics_enable && (version < 4 || request.allow_auto_topic_creation);
    for (const auto& requested : *request.topics) {
      ErrorCode error = ErrorCode::kNone;
      if (requested.name) error = co_await ensure_topic(broker, *requested.name, auto_create);
      errors.push_back(error);
    }
  }
  // One image for the whole answer, taken after any creation.
  const auto image = broker.cluster.image();
  for (const auto& [id, registration] : image->brokers) {
    auto address = client_address(*image, id, context.listener);
    if (!address) continue;
    auto& node = response.brokers.emplace_back();
    node.node_id = id;
    node.host = address->host;
    node.port = address->port;
    node.rack = address->rack;
  }
  response.cluster_id = broker.cluster.cluster_id();
  response.controller_id = image->controller_id();

  if (all_topics) {
    for (const auto* topic : image->existing_topics()) describe_topic(*image, *topic, response.topics.emplace_back());
  } else {
    for (size_t i = 0; i < request.topics->size(); ++i) {
      const auto& requested = (*request.topics)[i];
      auto& out = response.topics.emplace_back();
      const cluster::TopicImage* topic = nullptr;
      ErrorCode error = errors[i];
      if (requested.name) {
        out.name = *requested.name;
        topic = image->topic(*requested.name);
        if (!topic && error == ErrorCode::kNone) error = ErrorCode::kLeaderNotAvailable;
      } else {
        out.topic_id = requested.topic_id;
        topic = image->topic(requested.topic_id);
        if (!topic) error = ErrorCode::kUnknownTopicId;
      }
      if (topic) {
        describe_topic(*image, *topic, out);
        error = ErrorCode::kNone;
      }
      out.error_code = to_wire(error);
    }
  }
  context.respond(response);
}

}  // namespace runnel::server
