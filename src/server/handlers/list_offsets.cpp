// ListOffsets: earliest (-2), latest (-1), the record with the largest
// timestamp (-3, v7+) or the first record at or after a timestamp, per
// partition, answered by the partition's leader. Partitions led by another
// broker are asked there and the answers merged, so every broker answers the
// same (Kafka clients send ListOffsets to the leader anyway).
#include <map>

#include "protocol/messages/list_offsets.h"
#include "server/api_handlers.h"
#include "server/partition_routing.h"

namespace runnel::server {
namespace {

using protocol::ListOffsetsRequest;
using protocol::ListOffsetsResponse;

constexpr int64_t kLatestTimestamp = -1;
constexpr int64_t kEarliestTimestamp = -2;
constexpr int64_t kMaxTimestamp = -3;

void answer_locally(const replication::Partition& replica, const ListOffsetsRequest::ListOffsetsPartition& partition,
                    int16_t version, ListOffsetsResponse::ListOffsetsPartitionResponse& out) {
  if (auto error = replica.check_leader_epoch(partition.current_leader_epoch); error != ErrorCode::kNone) {
    out.error_code = to_wire(error);
    return;
  }
  const auto& log = *replica.log();
  const int64_t high_watermark = replica.high_watermark();
  int64_t offset = -1;
  int64_t timestamp = -1;
  if (partition.timestamp == kLatestTimestamp) {
    offset = high_watermark;
  } else if (partition.timestamp == kEarliestTimestamp) {
    offset = replica.log_start_offset();
  } else {
    auto found = partition.timestamp == kMaxTimestamp ? log.offset_of_max_timestamp()
                                                      : log.offset_for_timestamp(partition.timestamp);
    // Never point a consumer past what it may read; not found stays offset -1.
    if (found && found->offset < high_watermark) {
      offset = found->offset;
      timestamp = found->timestamp;
    }
  }
  if (version == 0) {
    if (offset >= 0) out.old_style_offsets.push_back(offset);
  } else {
    out.offset = offset;
    out.timestamp = timestamp;
    out.leader_epoch = replica.leader_epoch();
  }
}

}  // namespace

asio::awaitable<void> handle_list_offsets(BrokerContext& broker, RequestContext& context) {
  const auto request = context.decode_body<ListOffsetsRequest>();
  const int16_t version = context.version();
  const auto image = broker.cluster.image();
  ListOffsetsResponse response;
  // Partitions led elsewhere, by leader: (topic index, partition index).
  std::map<int32_t, std::vector<std::pair<size_t, size_t>>> remote;
  for (size_t t = 0; t < request.topics.size(); ++t) {
    const auto& topic = request.topics[t];
    auto& topic_response = response.topics.emplace_back();
    topic_response.name = topic.name;
    for (size_t p = 0; p < topic.partitions.size(); ++p) {
      const auto& partition = topic.partitions[p];
      auto& out = topic_response.partitions.emplace_back();
      out.partition_index = partition.partition_index;
      const auto replica = broker.cluster.replicas().get(topic.name, partition.partition_index);
      if (replica && replica->is_leader()) {
        answer_locally(*replica, partition, version, out);
        continue;
      }
      const auto* entry = image->partition(topic.name, partition.partition_index);
      if (!entry) {
        out.error_code = to_wire(ErrorCode::kUnknownTopicOrPartition);
      } else if (entry->state.leader < 0 || entry->state.leader == broker.config.node_id ||
                 !image->alive(entry->state.leader)) {
        out.error_code = to_wire(ErrorCode::kLeaderNotAvailable);
      } else {
        remote[entry->state.leader].push_back({t, p});
      }
    }
  }
  for (const auto& [leader, positions] : remote) {
    ListOffsetsRequest sub;
    sub.replica_id = request.replica_id;
    sub.isolation_level = request.isolation_level;
    for (const auto& [t, p] : positions) {
      const auto& name = request.topics[t].name;
      auto it = std::find_if(sub.topics.begin(), sub.topics.end(), [&](const auto& x) { return x.name == name; });
      if (it == sub.topics.end()) {
        it = sub.topics.emplace(sub.topics.end());
        it->name = name;
      }
      it->partitions.push_back(request.topics[t].partitions[p]);
    }
    auto client = broker.cluster.peers().get(*image, leader);
    std::optional<protocol::ListOffsetsResponse> answer;
    if (client) {
      auto result = co_await client->send(std::move(sub), version);
      if (result) answer = std::move(result->message);
    }
    for (const auto& [t, p] : positions) {
      auto& out = response.topics[t].partitions[p];
      out.error_code = to_wire(ErrorCode::kNotLeaderOrFollower);  // unless the leader answers below
      if (!answer) continue;
      for (const auto& topic : answer->topics) {
        if (topic.name != request.topics[t].name) continue;
        for (const auto& part : topic.partitions)
          if (part.partition_index == out.partition_index) out = part;
      }
    }
  }
  context.respond(response);
}

}  // namespace runnel::server
