// DeleteRecords: advance a partition's log start offset on its leader (whole
// segments below it are removed); -1 means up to the high watermark. Followers
// follow the leader's log start from their fetch responses.
#include "protocol/messages/delete_records.h"
#include "server/api_handlers.h"
#include "server/partition_routing.h"

namespace runnel::server {

asio::awaitable<void> handle_delete_records(BrokerContext& broker, RequestContext& context) {
  const auto request = context.decode_body<protocol::DeleteRecordsRequest>();
  protocol::DeleteRecordsResponse response;
  bool any_deleted = false;
  for (const auto& topic : request.topics) {
    auto& topic_out = response.topics.emplace_back();
    topic_out.name = topic.name;
    for (const auto& partition : topic.partitions) {
      auto& out = topic_out.partitions.emplace_back();
      out.partition_index = partition.partition_index;
      out.low_watermark = -1;
      const auto replica = broker.cluster.replicas().get(topic.name, partition.partition_index);
      if (!replica || !replica->is_leader()) {
        out.error_code = to_wire(replica ? ErrorCode::kNotLeaderOrFollower
                                         : absent_replica_error(broker, topic.name, partition.partition_index));
        continue;
      }
      const auto& log = replica->log();
      const int64_t high_watermark = log->high_watermark();
      const int64_t target = partition.offset == -1 ? high_watermark : partition.offset;
      if (target < 0 || target > high_watermark) {
        out.error_code = to_wire(ErrorCode::kOffsetOutOfRange);
        continue;
      }
      const ErrorCode error = log->delete_records_before(target);
      out.error_code = to_wire(error);
      out.low_watermark = log->log_start_offset();
      any_deleted = any_deleted || error == ErrorCode::kNone;
    }
  }
  // The new log start must survive a crash, so checkpoint it before answering.
  if (any_deleted) {
    if (const auto ec = broker.logs.write_checkpoints()) {
      for (auto& topic : response.topics) {
        for (auto& partition : topic.partitions) {
          if (partition.error_code == 0) partition.error_code = to_wire(ErrorCode::kKafkaStorageError);
        }
      }
    }
  }
  context.respond(response);
  co_return;
}

}  // namespace runnel::server
