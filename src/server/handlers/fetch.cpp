// Fetch: read from each requested partition up to its high watermark; when less
// than min_bytes is available, wait (without polling) until an append makes the
// high watermark move or max_wait_ms passes.
#include <algorithm>
#include <chrono>
#include <deque>

#include "protocol/messages/fetch.h"
#include "server/api_handlers.h"
#include "storage/message_set_conversion.h"

namespace runnel::server {
namespace {

using protocol::FetchRequest;
using protocol::FetchResponse;

constexpr int32_t kLeaderEpoch = 0;  // single node: the leader never changes
constexpr int16_t kFetchKey = FetchRequest::kApiKey;

struct PartitionTarget {
  std::string topic;
  std::shared_ptr<storage::Log> log;
  ErrorCode lookup_error = ErrorCode::kNone;
};

ErrorCode check_leader_epoch(int32_t current_leader_epoch) {
  if (current_leader_epoch < 0 || current_leader_epoch == kLeaderEpoch) return ErrorCode::kNone;
  return current_leader_epoch > kLeaderEpoch ? ErrorCode::kUnknownLeaderEpoch : ErrorCode::kFencedLeaderEpoch;
}

}  // namespace

asio::awaitable<void> handle_fetch(BrokerContext& broker, RequestContext& context) {
  const auto request = context.decode_body<FetchRequest>();
  const int16_t version = context.version();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(std::max(0, request.max_wait_ms));
  // The client's max_bytes, capped by the broker's fetch.max.bytes (KIP-541), as Kafka does.
  const int64_t max_bytes = std::min<int64_t>(request.max_bytes, broker.config.fetch_max_bytes);

  // Fetch sessions (KIP-227) are declined: session id 0 tells the client to keep
  // sending full fetch requests, which is always correct.
  if (request.session_id != 0 || request.session_epoch > 0) {
    FetchResponse response;
    response.error_code = to_wire(ErrorCode::kFetchSessionIdNotFound);
    broker.metrics.record_error(kFetchKey, ErrorCode::kFetchSessionIdNotFound);
    context.respond(response);
    co_return;
  }

  // Resolve every partition once; the logs stay valid while we wait.
  std::vector<std::vector<PartitionTarget>> targets;
  for (const auto& topic : request.topics) {
    auto& topic_targets = targets.emplace_back();
    std::optional<TopicInfo> info = version >= 13 ? broker.topics.find(topic.topic_id) : broker.topics.find(topic.topic);
    for (const auto& partition : topic.partitions) {
      PartitionTarget target;
      if (!info) {
        target.lookup_error = version >= 13 ? ErrorCode::kUnknownTopicId : ErrorCode::kUnknownTopicOrPartition;
      } else {
        target.topic = info->name;
        target.log = broker.topics.log(info->name, partition.partition);
        if (!target.log) target.lookup_error = ErrorCode::kUnknownTopicOrPartition;
      }
      if (target.lookup_error == ErrorCode::kNone) target.lookup_error = check_leader_epoch(partition.current_leader_epoch);
      topic_targets.push_back(std::move(target));
    }
  }

  AsyncEvent data_arrived(co_await asio::this_coro::executor);
  std::vector<PartitionWatchers::Registration> registrations;
  // What the response's records point at; deques, so that views stay valid.
  std::deque<std::vector<uint8_t>> record_buffers;         // v0-3: down-converted copies
  std::deque<std::vector<storage::FileSlice>> slice_lists;  // v4+: sent with sendfile
  for (;;) {
    FetchResponse response;
    response.session_id = 0;
    record_buffers.clear();
    slice_lists.clear();
    std::vector<std::vector<int64_t>> fetched_records;  // per partition, for the metrics
    int64_t total_bytes = 0;
    bool any_error = false;
    for (size_t t = 0; t < request.topics.size(); ++t) {
      const auto& topic = request.topics[t];
      auto& topic_response = response.responses.emplace_back();
      topic_response.topic = topic.topic;
      topic_response.topic_id = topic.topic_id;
      fetched_records.emplace_back(topic.partitions.size(), 0);
      for (size_t p = 0; p < topic.partitions.size(); ++p) {
        const auto& partition = topic.partitions[p];
        const auto& target = targets[t][p];
        auto& out = topic_response.partitions.emplace_back();
        out.partition_index = partition.partition;
        out.records = protocol::RecordsView::of(std::span<const uint8_t>());
        ErrorCode error = target.lookup_error;
        if (error == ErrorCode::kNone) {
          const int64_t high_watermark = target.log->high_watermark();
          out.high_watermark = high_watermark;
          out.last_stable_offset = high_watermark;
          out.log_start_offset = target.log->log_start_offset();
          const int64_t fetch_offset = partition.fetch_offset;
          if (fetch_offset < target.log->log_start_offset() || fetch_offset > target.log->log_end_offset()) {
            error = ErrorCode::kOffsetOutOfRange;
          } else if (fetch_offset < high_watermark) {
            const int64_t budget = max_bytes - total_bytes;
            const bool first_data = total_bytes == 0;  // KIP-74: the response carries at least one batch
            if (budget > 0 || first_data) {
              const auto limit = static_cast<int32_t>(std::clamp<int64_t>(
                  std::min<int64_t>(partition.partition_max_bytes, budget), 0, INT32_MAX));
              if (version >= 4) {
                // Batches as stored: sent from the segment files, never copied.
                auto read = target.log->read_slices(fetch_offset, limit, high_watermark, first_data);
                error = read.error;
                if (error == ErrorCode::kNone && read.bytes > 0) {
                  total_bytes += read.bytes;
                  fetched_records[t][p] = read.records;
                  const auto& slices = slice_lists.emplace_back(std::move(read.slices));
                  out.records = protocol::RecordsView::external(&slices, static_cast<size_t>(read.bytes));
                }
              } else {
                // Fetch v0-v3 consumers read only message sets (v0-v1: magic 0, v2-v3:
                // magic 1): down-convert, as Kafka does for old consumers.
                auto read = target.log->read(fetch_offset, limit, high_watermark, first_data);
                error = read.error;
                std::vector<uint8_t> converted;
                std::string why;
                if (error == ErrorCode::kNone && !read.bytes.empty() &&
                    !storage::down_convert_batches(read.bytes, version < 2 ? 0 : 1, fetch_offset,
                                                   static_cast<size_t>(limit), converted, &why)) {
                  error = ErrorCode::kCorruptMessage;
                }
                if (error == ErrorCode::kNone && !converted.empty()) {
                  total_bytes += static_cast<int64_t>(converted.size());
                  fetched_records[t][p] = static_cast<int64_t>(count_fetched_records(converted, fetch_offset));
                  out.records = protocol::RecordsView::of(record_buffers.emplace_back(std::move(converted)));
                }
              }
            }
          }
        }
        if (error != ErrorCode::kNone) {
          any_error = true;
          out.error_code = to_wire(error);
          if (out.high_watermark == 0 && !target.log) out.high_watermark = -1;
        }
      }
    }
    const bool done = total_bytes >= request.min_bytes || any_error || request.max_wait_ms <= 0 ||
                      std::chrono::steady_clock::now() >= deadline;
    if (done) {
      // Only the response that is sent counts (a long poll may read several times).
      for (size_t t = 0; t < response.responses.size(); ++t) {
        for (size_t p = 0; p < response.responses[t].partitions.size(); ++p) {
          const auto& out = response.responses[t].partitions[p];
          broker.metrics.record_error(kFetchKey, static_cast<ErrorCode>(out.error_code));
          if (out.records.size > 0) {
            broker.metrics.record_bytes_out(targets[t][p].topic, out.records.size,
                                            static_cast<uint64_t>(fetched_records[t][p]));
          }
        }
      }
      context.respond(response);
      co_return;
    }
    if (registrations.empty()) {
      for (size_t t = 0; t < targets.size(); ++t) {
        for (size_t p = 0; p < targets[t].size(); ++p) {
          registrations.push_back(
              broker.watchers.watch(targets[t][p].topic, request.topics[t].partitions[p].partition, &data_arrived));
        }
      }
    }
    co_await data_arrived.wait_until(deadline);
  }
}

}  // namespace runnel::server
