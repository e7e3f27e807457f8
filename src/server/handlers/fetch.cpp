// Fetch, from consumers and from follower replicas (replica id = their node id).
// Consumers read up to the high watermark of the leader (or, with a rack-aware
// replica selector, of a follower in their rack, KIP-392); followers read up to
// the log end, after the leader checked that their log matches its own at the
// fetch offset (else the diverging epoch tells them where to truncate, KIP-595),
// and their fetch offset tells the leader what they hold. When less than
// min_bytes is there the fetch waits, woken by appends and high-watermark moves,
// until max_wait_ms.
#include <algorithm>
#include <chrono>
#include <deque>

#include "protocol/messages/fetch.h"
#include "server/api_handlers.h"
#include "server/partition_routing.h"
#include "storage/message_set_conversion.h"

namespace runnel::server {
namespace {

using protocol::FetchRequest;
using protocol::FetchResponse;
using Clock = std::chrono::steady_clock;

constexpr int16_t kFetchKey = FetchRequest::kApiKey;

struct PartitionTarget {
  std::string topic;
  std::shared_ptr<replication::Partition> replica;
  ErrorCode lookup_error = ErrorCode::kNone;
  int32_t preferred_read_replica = -1;
};

int64_t steady_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch()).count();
}

// KIP-392: a follower in the consumer's rack that is in sync, or -1.
int32_t preferred_replica(const BrokerContext& broker, const replication::Partition& partition,
                          const std::string& client_rack) {
  if (!broker.config.rack_aware_replica_selector() || client_rack.empty()) return -1;
  const auto& image = *broker.cluster.image();
  const auto* self = image.broker(broker.config.node_id);
  if (self && self->rack == client_rack) return -1;  // the leader is in the rack already
  for (int32_t r : partition.isr()) {
    const auto* b = image.broker(r);
    if (r != broker.config.node_id && b && b->rack == client_rack) return r;
  }
  return -1;
}

}  // namespace

asio::awaitable<void> handle_fetch(BrokerContext& broker, RequestContext& context) {
  const auto request = context.decode_body<FetchRequest>();
  const int16_t version = context.version();
  const auto deadline = Clock::now() + std::chrono::milliseconds(std::max(0, request.max_wait_ms));
  // The client's max_bytes, capped by the broker's fetch.max.bytes (KIP-541), as Kafka does.
  const int64_t max_bytes = std::min<int64_t>(request.max_bytes, broker.config.fetch_max_bytes);
  const int32_t replica_id = request.replica_id;
  const bool from_follower = replica_id >= 0;

  // Fetch sessions (KIP-227) are declined: session id 0 tells the client to keep
  // sending full fetch requests, which is always correct.
  if (request.session_id != 0 || request.session_epoch > 0) {
    FetchResponse response;
    response.error_code = to_wire(ErrorCode::kFetchSessionIdNotFound);
    broker.metrics.record_error(kFetchKey, ErrorCode::kFetchSessionIdNotFound);
    context.respond(response);
    co_return;
  }

  // Resolve every partition once; the replicas stay valid while we wait.
  const auto& image = *broker.cluster.image();
  LeaderHints hints;
  std::vector<std::vector<PartitionTarget>> targets;
  for (const auto& topic : request.topics) {
    auto& topic_targets = targets.emplace_back();
    const cluster::TopicImage* info = version >= 13 ? image.topic(topic.topic_id) : image.topic(topic.topic);
    for (const auto& partition : topic.partitions) {
      PartitionTarget target;
      if (!info) {
        target.lookup_error = version >= 13 ? ErrorCode::kUnknownTopicId : ErrorCode::kUnknownTopicOrPartition;
      } else {
        target.topic = info->name;
        target.replica = broker.cluster.replicas().get(info->name, partition.partition);
        if (!target.replica) {
          target.lookup_error = absent_replica_error(broker, info->name, partition.partition);
        } else if (from_follower) {
          if (!target.replica->is_leader() || !target.replica->is_replica(replica_id))
            target.lookup_error = ErrorCode::kNotLeaderOrFollower;
        } else if (!target.replica->is_leader() &&
                   !(broker.config.rack_aware_replica_selector() &&
                     target.replica->role() == replication::Role::kFollower)) {
          target.lookup_error = ErrorCode::kNotLeaderOrFollower;
        }
        if (target.lookup_error == ErrorCode::kNone)
          target.lookup_error = target.replica->check_leader_epoch(partition.current_leader_epoch);
        if (target.lookup_error == ErrorCode::kNone && !from_follower && target.replica->is_leader() && version >= 11)
          target.preferred_read_replica = preferred_replica(broker, *target.replica, request.rack_id);
      }
      if (target.lookup_error == ErrorCode::kNotLeaderOrFollower ||
          target.lookup_error == ErrorCode::kFencedLeaderEpoch) {
        hints.add(broker, context.listener, target.topic.empty() ? topic.topic : target.topic, partition.partition);
      }
      topic_targets.push_back(std::move(target));
    }
  }

  // A follower's fetch offset is what it holds: record it at once (the high
  // watermark may move), before any long poll.
  if (from_follower) {
    const int64_t now = steady_now_ms();
    for (size_t t = 0; t < request.topics.size(); ++t) {
      for (size_t p = 0; p < request.topics[t].partitions.size(); ++p) {
        const auto& target = targets[t][p];
        const auto& in = request.topics[t].partitions[p];
        if (target.lookup_error != ErrorCode::kNone) continue;
        if (target.replica->check_divergence(in.last_fetched_epoch, in.fetch_offset)) continue;
        if (in.fetch_offset > target.replica->log_end_offset()) continue;
        target.replica->record_follower_fetch(replica_id, in.fetch_offset, in.log_start_offset, now);
      }
    }
  }

  AsyncEvent data_arrived(co_await asio::this_coro::executor);
  std::vector<replication::PartitionWaiters::Registration> registrations;
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
    bool news_for_follower = false;  // a high watermark the follower has not seen yet
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
          const auto& replica = *target.replica;
          const auto& log = *replica.log();
          const int64_t high_watermark = replica.high_watermark();
          out.high_watermark = high_watermark;
          out.last_stable_offset = high_watermark;
          out.log_start_offset = replica.log_start_offset();
          const int64_t fetch_offset = partition.fetch_offset;
          // Followers copy the whole log; consumers see only what every ISR member holds.
          const int64_t read_limit = from_follower ? replica.log_end_offset() : high_watermark;
          std::optional<replication::DivergingEpoch> diverging;
          if (from_follower) diverging = replica.check_divergence(partition.last_fetched_epoch, fetch_offset);
          if (diverging) {
            out.diverging_epoch.epoch = diverging->epoch;
            out.diverging_epoch.end_offset = diverging->end_offset;
            news_for_follower = true;
          } else if (target.preferred_read_replica >= 0) {
            out.preferred_read_replica = target.preferred_read_replica;
            news_for_follower = true;  // answer at once: the consumer moves there
          } else if (fetch_offset < replica.log_start_offset() || fetch_offset > replica.log_end_offset()) {
            error = ErrorCode::kOffsetOutOfRange;
          } else {
            if (from_follower) {
              const auto& followers = replica.followers();
              auto f = followers.find(replica_id);
              if (f != followers.end() && f->second.last_sent_high_watermark < high_watermark) news_for_follower = true;
            }
            if (fetch_offset < read_limit) {
              const int64_t budget = max_bytes - total_bytes;
              const bool first_data = total_bytes == 0;  // KIP-74: the response carries at least one batch
              if (budget > 0 || first_data) {
                const auto limit = static_cast<int32_t>(std::clamp<int64_t>(
                    std::min<int64_t>(partition.partition_max_bytes, budget), 0, INT32_MAX));
                if (version >= 4) {
                  // Batches as stored: sent from the segment files, never copied.
                  auto read = log.read_slices(fetch_offset, limit, read_limit, first_data);
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
                  auto read = log.read(fetch_offset, limit, read_limit, first_data);
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
        }
        if (error != ErrorCode::kNone) {
          any_error = true;
          out.error_code = to_wire(error);
          if (!target.replica) out.high_watermark = -1;
          if (const auto* leader = hints.find(target.topic.empty() ? topic.topic : target.topic, partition.partition)) {
            out.current_leader.leader_id = leader->id;
            out.current_leader.leader_epoch = leader->epoch;
          }
        }
      }
    }
    const bool done = total_bytes >= request.min_bytes || any_error || news_for_follower || request.max_wait_ms <= 0 ||
                      Clock::now() >= deadline;
    if (done) {
      // Only the response that is sent counts (a long poll may read several times).
      for (size_t t = 0; t < response.responses.size(); ++t) {
        for (size_t p = 0; p < response.responses[t].partitions.size(); ++p) {
          const auto& out = response.responses[t].partitions[p];
          broker.metrics.record_error(kFetchKey, static_cast<ErrorCode>(out.error_code));
          if (out.records.size > 0 && !from_follower) {
            broker.metrics.record_bytes_out(targets[t][p].topic, out.records.size,
                                            static_cast<uint64_t>(fetched_records[t][p]));
          }
          if (from_follower && targets[t][p].replica && out.error_code == 0)
            targets[t][p].replica->note_high_watermark_sent(replica_id, out.high_watermark);
        }
      }
      context.respond(response);
      co_return;
    }
    if (registrations.empty()) {
      for (size_t t = 0; t < targets.size(); ++t) {
        for (size_t p = 0; p < targets[t].size(); ++p) {
          const auto& replica = targets[t][p].replica;
          if (!replica) continue;
          // Followers wake on appends too; consumers only when what they may read moves.
          registrations.push_back(from_follower ? replica->data_waiters().add(&data_arrived)
                                                : replica->state_waiters().add(&data_arrived));
        }
      }
    }
    co_await data_arrived.wait_until(deadline);
  }
}

}  // namespace runnel::server
