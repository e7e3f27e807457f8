// OffsetCommit: partitions of unknown topics are refused here
// (UNKNOWN_TOPIC_OR_PARTITION); the rest go to the coordinator, which answers
// once the commit is durable.
#include "common/await_callback.h"
#include "protocol/messages/offset_commit.h"
#include "server/api_handlers.h"

namespace runnel::server {

asio::awaitable<void> handle_offset_commit(BrokerContext& broker, RequestContext& context) {
  auto request = context.decode_body<protocol::OffsetCommitRequest>();
  const int16_t version = context.version();
  protocol::OffsetCommitResponse response;
  coordinator::OffsetCommitParams params;
  params.group_id = request.group_id;
  // v0 has neither: a commit outside group management.
  params.member_id = version >= 1 ? request.member_id : "";
  params.generation_id = version >= 1 ? request.generation_id_or_member_epoch : -1;
  params.group_instance_id = request.group_instance_id;
  std::vector<std::pair<size_t, size_t>> slots;  // response position of each entry sent on
  for (auto& topic : request.topics) {
    auto& topic_out = response.topics.emplace_back();
    topic_out.name = topic.name;
    const auto* info = broker.cluster.image()->topic(topic.name);
    for (auto& partition : topic.partitions) {
      auto& out = topic_out.partitions.emplace_back();
      out.partition_index = partition.partition_index;
      if (!info || partition.partition_index < 0 || partition.partition_index >= info->partition_count()) {
        out.error_code = to_wire(ErrorCode::kUnknownTopicOrPartition);
        continue;
      }
      slots.emplace_back(response.topics.size() - 1, topic_out.partitions.size() - 1);
      params.offsets.push_back({{topic.name, partition.partition_index},
                                partition.committed_offset,
                                partition.committed_leader_epoch,
                                std::move(partition.committed_metadata),
                                partition.commit_timestamp});
    }
  }
  if (!params.offsets.empty()) {
    const auto errors = co_await await_callback<std::vector<ErrorCode>>(
        [&](std::function<void(std::vector<ErrorCode>)> done) {
          broker.groups.commit_offsets(std::move(params), std::move(done));
        });
    for (size_t i = 0; i < slots.size() && i < errors.size(); ++i) {
      response.topics[slots[i].first].partitions[slots[i].second].error_code = to_wire(errors[i]);
    }
  }
  context.respond(response);
}

}  // namespace runnel::server
