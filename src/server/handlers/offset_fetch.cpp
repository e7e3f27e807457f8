// OffsetFetch: committed offsets of one group (v0-7; all of them when topics is
// null, v2+) or of several groups in one request (v8+). Unknown groups and
// partitions answer offset -1 without an error, as Kafka does.
#include <map>

#include "protocol/messages/offset_fetch.h"
#include "server/api_handlers.h"

namespace runnel::server {
namespace {

using protocol::OffsetFetchRequest;
using protocol::OffsetFetchResponse;

// Topic -> partitions, in request order, for one group.
template <typename Topics>
std::optional<std::vector<coordinator::TopicPartition>> wanted(const std::optional<Topics>& topics) {
  if (!topics) return std::nullopt;
  std::vector<coordinator::TopicPartition> partitions;
  for (const auto& t : *topics) {
    for (int32_t p : t.partition_indexes) partitions.push_back({t.name, p});
  }
  return partitions;
}

// Groups fetched offsets by topic (first-seen order) into the response's topic type.
template <typename TopicOut>
std::vector<TopicOut> by_topic(const std::vector<coordinator::FetchedOffset>& offsets, std::optional<ErrorCode> error) {
  std::vector<TopicOut> topics;
  std::map<std::string, size_t> index;
  for (const auto& o : offsets) {
    auto [it, inserted] = index.try_emplace(o.partition.topic, topics.size());
    if (inserted) topics.emplace_back().name = o.partition.topic;
    auto& out = topics[it->second].partitions.emplace_back();
    out.partition_index = o.partition.partition;
    out.committed_offset = error ? -1 : o.offset;
    out.committed_leader_epoch = error ? -1 : o.leader_epoch;
    out.metadata = error ? "" : o.metadata;
    out.error_code = to_wire(error ? *error : o.error);
  }
  return topics;
}

}  // namespace

asio::awaitable<void> handle_offset_fetch(BrokerContext& broker, RequestContext& context) {
  const auto request = context.decode_body<OffsetFetchRequest>();
  const int16_t version = context.version();
  OffsetFetchResponse response;
  if (version >= 8) {
    for (const auto& group : request.groups) {
      const auto result = broker.groups.fetch_offsets(group.group_id, wanted(group.topics), request.require_stable);
      auto& out = response.groups.emplace_back();
      out.group_id = group.group_id;
      out.error_code = to_wire(result.error);
      if (result.error == ErrorCode::kNone) {
        out.topics = by_topic<OffsetFetchResponse::OffsetFetchResponseTopics>(result.offsets, std::nullopt);
      }
    }
  } else {
    auto partitions = wanted(request.topics);
    const bool require_stable = version >= 7 && request.require_stable;
    auto result = broker.groups.fetch_offsets(request.group_id, partitions, require_stable);
    if (result.error != ErrorCode::kNone && version < 2) {
      // No top-level error before v2: every requested partition carries it.
      result.offsets.clear();
      for (const auto& tp : partitions.value_or(std::vector<coordinator::TopicPartition>{})) {
        result.offsets.push_back({tp, -1, -1, "", result.error});
      }
      response.topics = by_topic<OffsetFetchResponse::OffsetFetchResponseTopic>(result.offsets, result.error);
    } else if (result.error != ErrorCode::kNone) {
      response.error_code = to_wire(result.error);
    } else {
      response.topics = by_topic<OffsetFetchResponse::OffsetFetchResponseTopic>(result.offsets, std::nullopt);
    }
  }
  context.respond(response);
  co_return;
}

}  // namespace runnel::server
