// DeleteTopics: by name (v0-5) or by name or topic id (v6+); data is removed from disk.
#include "coordinator/internal_topics.h"
#include "protocol/messages/delete_topics.h"
#include "server/api_handlers.h"

namespace runnel::server {

asio::awaitable<void> handle_delete_topics(BrokerContext& broker, RequestContext& context) {
  const auto request = context.decode_body<protocol::DeleteTopicsRequest>();
  protocol::DeleteTopicsResponse response;
  auto delete_one = [&](std::optional<std::string> name, Uuid id) {
    auto& out = response.responses.emplace_back();
    out.topic_id = id;
    std::optional<TopicInfo> info;
    if (name) {
      info = broker.topics.find(*name);
    } else {
      info = broker.topics.find(id);
    }
    out.name = name;
    if (!info) {
      out.error_code = to_wire(name ? ErrorCode::kUnknownTopicOrPartition : ErrorCode::kUnknownTopicId);
      out.error_message = "This server does not host this topic.";
      return;
    }
    if (name && !id.is_zero() && info->id != id) {
      out.error_code = to_wire(ErrorCode::kInvalidRequest);
      out.error_message = "Topic name and id do not match";
      return;
    }
    out.name = info->name;
    out.topic_id = info->id;
    if (coordinator::is_internal_topic(info->name)) {
      out.error_code = to_wire(ErrorCode::kTopicAuthorizationFailed);
      out.error_message = "Internal topics cannot be deleted";
      return;
    }
    const auto result = broker.topics.delete_topic(info->name);
    if (!result.ok()) {
      out.error_code = to_wire(result.error);
      out.error_message = result.message;
    }
  };
  if (context.version() >= 6) {
    for (const auto& topic : request.topics) delete_one(topic.name, topic.topic_id);
  } else {
    for (const auto& name : request.topic_names) delete_one(name, Uuid{});
  }
  context.respond(response);
  co_return;
}

}  // namespace runnel::server
