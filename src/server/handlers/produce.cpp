// Produce: each partition's batches go to its leader replica here (else
// NOT_LEADER_OR_FOLLOWER, with the current leader where the version carries it),
// which stamps its leader epoch and appends them. acks=all is answered once
// every in-sync replica holds the batch and it is fsynced here (the high
// watermark passed it), acks=1 once it is fsynced here, acks=0 never.
#include <chrono>
#include <memory>

#include "common/internal_topics.h"
#include "protocol/messages/produce.h"
#include "server/api_handlers.h"
#include "server/clock.h"
#include "server/controller_routing.h"
#include "server/partition_routing.h"
#include "storage/message_set_conversion.h"

namespace runnel::server {
namespace {

using protocol::ProduceRequest;
using protocol::ProduceResponse;
using Clock = std::chrono::steady_clock;

constexpr int16_t kProduceKey = ProduceRequest::kApiKey;

// An append that waits for replication or durability before it is answered.
struct PendingAppend {
  size_t topic;
  size_t partition;
  std::shared_ptr<replication::Partition> replica;
  int64_t end_offset;
  int32_t leader_epoch;
  int32_t min_insync_replicas;
};

void record_errors(BrokerMetrics& metrics, const ProduceResponse& response) {
  for (const auto& topic : response.responses) {
    for (const auto& partition : topic.partition_responses) {
      metrics.record_error(kProduceKey, static_cast<ErrorCode>(partition.error_code));
    }
  }
}

}  // namespace

asio::awaitable<void> handle_produce(BrokerContext& broker, RequestContext& context) {
  auto request = context.decode_body<ProduceRequest>();
  ProduceResponse response;
  const int16_t acks = request.acks;
  const bool valid_acks = acks == 0 || acks == 1 || acks == -1;
  // With Kafka's flush interval configured, acks=1 means "in the page cache".
  const bool acks_one_waits_for_fsync = !broker.config.log_flush_interval_messages && !broker.config.log_flush_interval_ms;
  const auto deadline = Clock::now() + std::chrono::milliseconds(std::max(0, request.timeout_ms));
  const int64_t now = wall_clock_ms();
  std::vector<PendingAppend> pending;
  LeaderHints hints;

  for (auto& topic_data : request.topic_data) {
    auto& topic_response = response.responses.emplace_back();
    topic_response.name = topic_data.name;
    ErrorCode topic_error = ErrorCode::kNone;
    if (!valid_acks) {
      topic_error = ErrorCode::kInvalidRequiredAcks;
    } else if (request.transactional_id) {
      topic_error = ErrorCode::kTransactionalIdAuthorizationFailed;
    } else if (is_internal_topic(topic_data.name)) {
      // Only the coordinators write internal topics (Kafka: "Cannot append to internal topic").
      topic_error = ErrorCode::kInvalidTopicException;
    } else {
      topic_error = co_await ensure_topic(broker, topic_data.name, broker.config.auto_create_topics_enable);
    }
    const cluster::TopicImage* topic_image = broker.cluster.image()->topic(topic_data.name);
    const int32_t min_insync =
        topic_image ? static_cast<int32_t>(broker.resolver.int_value(topic_image->configs, "min.insync.replicas")) : 1;
    for (auto& partition_data : topic_data.partition_data) {
      auto& partition_response = topic_response.partition_responses.emplace_back();
      partition_response.index = partition_data.index;
      partition_response.base_offset = -1;
      ErrorCode error = topic_error;
      std::shared_ptr<replication::Partition> replica;
      if (error == ErrorCode::kNone) {
        replica = broker.cluster.replicas().get(topic_data.name, partition_data.index);
        error = replica ? replica->check_produce(acks, min_insync)
                        : absent_replica_error(broker, topic_data.name, partition_data.index);
      }
      if (error == ErrorCode::kNotLeaderOrFollower) hints.add(broker, context.listener, topic_data.name, partition_data.index);
      if (error == ErrorCode::kNone && (partition_data.records.is_null || partition_data.records.size == 0)) {
        error = ErrorCode::kCorruptMessage;
      }
      // Produce v0-v2 may carry an old message set (magic 0/1, the magic byte sits where a
      // v2 batch has its own): like Kafka's LogValidator, convert it to one v2 batch, which
      // then takes the normal append path. v3+ requires magic 2 and is never converted.
      std::vector<uint8_t> converted;
      const auto& records = partition_data.records;
      if (error == ErrorCode::kNone && context.version() < 3 && records.size > storage::batch_layout::kMagic &&
          records.data[storage::batch_layout::kMagic] < storage::kCurrentMagic) {
        std::string why;
        error = storage::up_convert_message_set({records.data, records.size}, converted, &why);
      }
      if (error == ErrorCode::kNone) {
        // The connection owns the request buffer; the log patches offsets into it.
        auto* bytes = const_cast<uint8_t*>(partition_data.records.data);
        std::span<uint8_t> batches(bytes, partition_data.records.size);
        if (!converted.empty()) batches = converted;
        const int32_t epoch = replica->leader_epoch();
        const auto result = replica->append_as_leader(batches, now);
        error = result.error;
        // A retried idempotent batch (result.duplicate) is answered like the original: its
        // base offset with NONE, as Kafka 3.x does. A keyless record on a compacted topic is
        // INVALID_RECORD with Kafka's record error (v8+ fields).
        if (result.record_error_index >= 0) {
          auto& record_error = partition_response.record_errors.emplace_back();
          record_error.batch_index = result.record_error_index;
          record_error.batch_index_error_message = result.error_message;
        }
        if (!result.error_message.empty()) partition_response.error_message = result.error_message;
        if (error == ErrorCode::kNone && !result.duplicate) {
          broker.metrics.record_bytes_in(topic_data.name, partition_data.records.size,
                                         static_cast<uint64_t>(result.record_count));
        }
        if (error == ErrorCode::kNone) {
          partition_response.base_offset = result.base_offset;
          partition_response.log_append_time_ms = result.log_append_time_ms;
          partition_response.log_start_offset = replica->log_start_offset();
          const bool waits = acks == -1 || (acks == 1 && acks_one_waits_for_fsync);
          if (waits) {
            pending.push_back({response.responses.size() - 1, topic_response.partition_responses.size() - 1, replica,
                               result.last_offset + 1, epoch, acks == -1 ? min_insync : 0});
          }
        }
      }
      if (error != ErrorCode::kNone) partition_response.error_code = to_wire(error);
    }
  }

  if (acks == 0 && valid_acks) {
    record_errors(broker.metrics, response);
    context.send_response = false;
    co_return;
  }
  // Wait for every appended partition: its replicas (acks=all) or its fsync
  // here (acks=1), woken by the partition's state changes, never by polling.
  AsyncEvent changed(co_await asio::this_coro::executor);
  std::vector<replication::PartitionWaiters::Registration> registrations;
  for (const auto& p : pending) registrations.push_back(p.replica->state_waiters().add(&changed));
  size_t open = pending.size();
  std::vector<bool> done(pending.size(), false);
  while (open > 0) {
    for (size_t i = 0; i < pending.size(); ++i) {
      if (done[i]) continue;
      const auto& p = pending[i];
      const auto status = acks == -1 ? p.replica->replicated_status(p.end_offset, p.leader_epoch, p.min_insync_replicas)
                                     : p.replica->durable_status(p.end_offset, p.leader_epoch);
      if (!status) continue;
      done[i] = true;
      --open;
      if (*status != ErrorCode::kNone) {
        auto& out = response.responses[p.topic].partition_responses[p.partition];
        out.error_code = to_wire(*status);
        out.base_offset = -1;
        if (*status == ErrorCode::kNotLeaderOrFollower) hints.add(broker, context.listener, response.responses[p.topic].name, out.index);
      }
    }
    if (open == 0) break;
    if (Clock::now() >= deadline) {
      // Kafka: the request timed out before enough replicas acknowledged.
      for (size_t i = 0; i < pending.size(); ++i) {
        if (done[i]) continue;
        auto& out = response.responses[pending[i].topic].partition_responses[pending[i].partition];
        out.error_code = to_wire(ErrorCode::kRequestTimedOut);
        out.base_offset = -1;
      }
      break;
    }
    co_await changed.wait_until(deadline);
  }
  registrations.clear();
  hints.fill(response, context.version());
  record_errors(broker.metrics, response);
  context.respond(response);
}

}  // namespace runnel::server
