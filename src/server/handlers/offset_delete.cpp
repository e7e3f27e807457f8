// OffsetDelete: removes a group's committed offsets for some partitions, except
// those of topics the group is still consuming (GROUP_SUBSCRIBED_TO_TOPIC).
#include "common/await_callback.h"
#include "protocol/messages/offset_delete.h"
#include "server/api_handlers.h"

namespace runnel::server {

asio::awaitable<void> handle_offset_delete(BrokerContext& broker, RequestContext& context) {
  const auto request = context.decode_body<protocol::OffsetDeleteRequest>();
  protocol::OffsetDeleteResponse response;
  std::vector<coordinator::TopicPartition> partitions;
  std::vector<std::pair<size_t, size_t>> slots;
  for (const auto& topic : request.topics) {
    auto& topic_out = response.topics.emplace_back();
    topic_out.name = topic.name;
    const auto* info = broker.cluster.image()->topic(topic.name);
    for (const auto& partition : topic.partitions) {
      auto& out = topic_out.partitions.emplace_back();
      out.partition_index = partition.partition_index;
      if (!info || partition.partition_index < 0 || partition.partition_index >= info->partition_count()) {
        out.error_code = to_wire(ErrorCode::kUnknownTopicOrPartition);
        continue;
      }
      slots.emplace_back(response.topics.size() - 1, topic_out.partitions.size() - 1);
      partitions.push_back({topic.name, partition.partition_index});
    }
  }
  const auto result = co_await await_callback<coordinator::OffsetDeleteResult>(
      [&](std::function<void(coordinator::OffsetDeleteResult)> done) {
        broker.groups.delete_offsets(request.group_id, std::move(partitions), std::move(done));
      });
  if (result.error != ErrorCode::kNone) {
    // A group-level error comes alone, without partitions.
    response.topics.clear();
    response.error_code = to_wire(result.error);
  } else {
    for (size_t i = 0; i < slots.size() && i < result.partitions.size(); ++i) {
      response.topics[slots[i].first].partitions[slots[i].second].error_code = to_wire(result.partitions[i]);
    }
  }
  context.respond(response);
}

}  // namespace runnel::server
