// OffsetForLeaderEpoch: the end offset of the requested leader epoch. A single
// node has only ever had epoch 0, which is still open, so its end is the log end.
#include "protocol/messages/offset_for_leader_epoch.h"
#include "server/api_handlers.h"

namespace runnel::server {

asio::awaitable<void> handle_offset_for_leader_epoch(BrokerContext& broker, RequestContext& context) {
  const auto request = context.decode_body<protocol::OffsetForLeaderEpochRequest>();
  protocol::OffsetForLeaderEpochResponse response;
  constexpr int32_t kCurrentEpoch = 0;
  for (const auto& topic : request.topics) {
    auto& topic_out = response.topics.emplace_back();
    topic_out.topic = topic.topic;
    for (const auto& partition : topic.partitions) {
      auto& out = topic_out.partitions.emplace_back();
      out.partition = partition.partition;
      out.leader_epoch = -1;
      out.end_offset = -1;
      const auto log = broker.topics.log(topic.topic, partition.partition);
      if (!log) {
        out.error_code = to_wire(ErrorCode::kUnknownTopicOrPartition);
      } else if (partition.current_leader_epoch > kCurrentEpoch) {
        out.error_code = to_wire(ErrorCode::kUnknownLeaderEpoch);
      } else if (partition.current_leader_epoch >= 0 && partition.current_leader_epoch < kCurrentEpoch) {
        out.error_code = to_wire(ErrorCode::kFencedLeaderEpoch);
      } else if (partition.leader_epoch == kCurrentEpoch) {
        out.leader_epoch = kCurrentEpoch;
        out.end_offset = log->log_end_offset();
      }
      // Any other requested epoch is unknown here: (-1, -1), as Kafka answers.
    }
  }
  context.respond(response);
  co_return;
}

}  // namespace runnel::server
