// ListOffsets: earliest (-2), latest (-1), the record with the largest
// timestamp (-3, v7+) or the first record at or after a timestamp, per partition.
#include "protocol/messages/list_offsets.h"
#include "server/api_handlers.h"

namespace runnel::server {
namespace {

using protocol::ListOffsetsRequest;
using protocol::ListOffsetsResponse;

constexpr int64_t kLatestTimestamp = -1;
constexpr int64_t kEarliestTimestamp = -2;
constexpr int64_t kMaxTimestamp = -3;

}  // namespace

asio::awaitable<void> handle_list_offsets(BrokerContext& broker, RequestContext& context) {
  const auto request = context.decode_body<ListOffsetsRequest>();
  const int16_t version = context.version();
  ListOffsetsResponse response;
  for (const auto& topic : request.topics) {
    auto& topic_response = response.topics.emplace_back();
    topic_response.name = topic.name;
    const auto info = broker.topics.find(topic.name);
    for (const auto& partition : topic.partitions) {
      auto& out = topic_response.partitions.emplace_back();
      out.partition_index = partition.partition_index;
      auto log = info ? broker.topics.log(topic.name, partition.partition_index) : nullptr;
      if (!log) {
        out.error_code = to_wire(ErrorCode::kUnknownTopicOrPartition);
        continue;
      }
      if (partition.current_leader_epoch > 0) {
        out.error_code = to_wire(ErrorCode::kUnknownLeaderEpoch);
        continue;
      }
      int64_t offset = -1;
      int64_t timestamp = -1;
      if (partition.timestamp == kLatestTimestamp) {
        offset = log->high_watermark();
      } else if (partition.timestamp == kEarliestTimestamp) {
        offset = log->log_start_offset();
      } else {
        auto found = partition.timestamp == kMaxTimestamp ? log->offset_of_max_timestamp()
                                                          : log->offset_for_timestamp(partition.timestamp);
        // Never point a consumer past what it may read; not found stays offset -1.
        if (found && found->offset < log->high_watermark()) {
          offset = found->offset;
          timestamp = found->timestamp;
        }
      }
      if (version == 0) {
        if (offset >= 0) out.old_style_offsets.push_back(offset);
      } else {
        out.offset = offset;
        out.timestamp = timestamp;
        out.leader_epoch = 0;
      }
    }
  }
  context.respond(response);
  co_return;
}

}  // namespace runnel::server
