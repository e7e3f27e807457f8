// OffsetForLeaderEpoch (KIP-101/279): the end offset of a leader epoch from the
// leader's leader-epoch-checkpoint: the start offset of the next higher epoch, or
// the log end for the current one, with the largest epoch at or below the one
// asked for. Followers and clients (KIP-320, truncation detection) ask the leader.
#include "protocol/messages/offset_for_leader_epoch.h"
#include "server/api_handlers.h"
#include "server/partition_routing.h"

namespace runnel::server {

asio::awaitable<void> handle_offset_for_leader_epoch(BrokerContext& broker, RequestContext& context) {
  const auto request = context.decode_body<protocol::OffsetForLeaderEpochRequest>();
  protocol::OffsetForLeaderEpochResponse response;
  for (const auto& topic : request.topics) {
    auto& topic_out = response.topics.emplace_back();
    topic_out.topic = topic.topic;
    for (const auto& partition : topic.partitions) {
      auto& out = topic_out.partitions.emplace_back();
      out.partition = partition.partition;
      out.leader_epoch = -1;
      out.end_offset = -1;
      const auto replica = broker.cluster.replicas().get(topic.topic, partition.partition);
      ErrorCode error = ErrorCode::kNone;
      if (!replica) {
        error = absent_replica_error(broker, topic.topic, partition.partition);
      } else if (!replica->is_leader()) {
        error = ErrorCode::kNotLeaderOrFollower;
      } else {
        error = replica->check_leader_epoch(partition.current_leader_epoch);
      }
      if (error != ErrorCode::kNone) {
        out.error_code = to_wire(error);
        continue;
      }
      // An epoch above every known one is unknown here: (-1, -1), as Kafka answers.
      const auto end = replica->log()->end_offset_for_epoch(partition.leader_epoch);
      out.leader_epoch = end.epoch;
      out.end_offset = end.end_offset;
    }
  }
  context.respond(response);
  co_return;
}

}  // namespace runnel::server
