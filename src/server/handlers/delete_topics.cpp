// DeleteTopics: by name (v0-5) or by name or topic id (v6+), decided by the
// controller wherever it is; every broker holding a replica removes it from disk
// when its image shows the deletion. Internal topics cannot be deleted.
#include "common/internal_topics.h"
#include "protocol/messages/delete_topics.h"
#include "server/api_handlers.h"
#include "server/controller_routing.h"

namespace runnel::server {

asio::awaitable<void> handle_delete_topics(BrokerContext& broker, RequestContext& context) {
  const auto request = context.decode_body<protocol::DeleteTopicsRequest>();
  const auto route = co_await route_to_controller(broker, context);
  if (route == Routing::kForwarded) {
    // Answer once this broker no longer shows them.
    std::vector<std::string> names;
    for (const auto& t : request.topics)
      if (t.name) names.push_back(*t.name);
    for (const auto& n : request.topic_names) names.push_back(n);
    const std::function<bool(const cluster::MetadataImage&)> gone = [&names](const cluster::MetadataImage& image) {
      for (const auto& n : names)
        if (image.topic(n)) return false;
      return true;
    };
    co_await broker.cluster.view().wait_until(gone, std::chrono::steady_clock::now() + std::chrono::seconds(10));
    co_return;
  }
  const auto image = broker.cluster.image();
  protocol::DeleteTopicsResponse response;
  std::vector<std::string> to_delete;
  std::vector<size_t> positions;
  auto delete_one = [&](std::optional<std::string> name, Uuid id) {
    auto& out = response.responses.emplace_back();
    out.topic_id = id;
    out.name = name;
    if (route == Routing::kNoController) {
      out.error_code = to_wire(ErrorCode::kNotController);
      return;
    }
    const cluster::TopicImage* topic = name ? image->topic(*name) : image->topic(id);
    if (!topic) {
      out.error_code = to_wire(name ? ErrorCode::kUnknownTopicOrPartition : ErrorCode::kUnknownTopicId);
      out.error_message = "This server does not host this topic.";
      return;
    }
    if (name && !id.is_zero() && topic->id() != id) {
      out.error_code = to_wire(ErrorCode::kInvalidRequest);
      out.error_message = "Topic name and id do not match";
      return;
    }
    out.name = topic->name;
    out.topic_id = topic->id();
    if (is_internal_topic(topic->name)) {
      out.error_code = to_wire(ErrorCode::kTopicAuthorizationFailed);
      out.error_message = "Internal topics cannot be deleted";
      return;
    }
    to_delete.push_back(topic->name);
    positions.push_back(response.responses.size() - 1);
  };
  if (context.version() >= 6) {
    for (const auto& topic : request.topics) delete_one(topic.name, topic.topic_id);
  } else {
    for (const auto& name : request.topic_names) delete_one(name, Uuid{});
  }
  if (!to_delete.empty()) {
    const auto results = co_await broker.cluster.controller().delete_topics(to_delete);
    for (size_t i = 0; i < results.size(); ++i) {
      auto& out = response.responses[positions[i]];
      out.error_code = to_wire(results[i].error);
      if (!results[i].ok()) out.error_message = results[i].message;
    }
  }
  context.respond(response);
}

}  // namespace runnel::server
