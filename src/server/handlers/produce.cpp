// Produce: validate and append each partition's batches, then answer once they
// are durable (group-committed fsync), unless acks=0.
#include <chrono>
#include <memory>

#include <asio/post.hpp>

#include "coordinator/internal_topics.h"
#include "protocol/messages/produce.h"
#include "server/api_handlers.h"
#include "server/clock.h"
#include "storage/message_set_conversion.h"

namespace runnel::server {
namespace {

using protocol::ProduceRequest;
using protocol::ProduceResponse;

// Collects flush completions for one request on the event loop.
struct PendingDurability {
  explicit PendingDurability(const asio::any_io_executor& executor) : done(executor) {}
  int remaining = 0;
  AsyncEvent done;
  // Where each awaited flush's result goes: (topic index, partition index, error).
  struct Slot {
    size_t topic;
    size_t partition;
    ErrorCode error = ErrorCode::kNone;
  };
  std::vector<Slot> slots;
};

constexpr int16_t kProduceKey = ProduceRequest::kApiKey;

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
  const bool wait_for_fsync = acks == -1 || (acks == 1 && !broker.config.log_flush_interval_messages &&
                                             !broker.config.log_flush_interval_ms);
  auto pending = std::make_shared<PendingDurability>(co_await asio::this_coro::executor);
  const int64_t now = wall_clock_ms();

  for (auto& topic_data : request.topic_data) {
    auto& topic_response = response.responses.emplace_back();
    topic_response.name = topic_data.name;
    ErrorCode topic_error = ErrorCode::kNone;
    if (!valid_acks) {
      topic_error = ErrorCode::kInvalidRequiredAcks;
    } else if (request.transactional_id) {
      topic_error = ErrorCode::kTransactionalIdAuthorizationFailed;
    } else if (coordinator::is_internal_topic(topic_data.name)) {
      // Only the coordinators write internal topics (Kafka: "Cannot append to internal topic").
      topic_error = ErrorCode::kInvalidTopicException;
    } else {
      topic_error = broker.topics.find_or_create(topic_data.name, broker.config.auto_create_topics_enable).first;
    }
    for (auto& partition_data : topic_data.partition_data) {
      auto& partition_response = topic_response.partition_responses.emplace_back();
      partition_response.index = partition_data.index;
      partition_response.base_offset = -1;
      ErrorCode error = topic_error;
      std::shared_ptr<storage::Log> log;
      if (error == ErrorCode::kNone) {
        log = broker.topics.log(topic_data.name, partition_data.index);
        if (!log) error = ErrorCode::kUnknownTopicOrPartition;
      }
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
        const auto result = log->append(batches, 0, now);
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
          partition_response.log_start_offset = log->log_start_offset();
          ++pending->remaining;
          const auto executor = co_await asio::this_coro::executor;
          const std::string topic_name = topic_data.name;
          const int32_t partition = partition_data.index;
          const size_t slot = pending->slots.size();
          pending->slots.push_back({response.responses.size() - 1, topic_response.partition_responses.size() - 1});
          broker.flusher.request(
              log, result.last_offset + 1,
              [&broker, executor, pending, topic_name, partition, slot, wait_for_fsync](int64_t, ErrorCode flush_error) {
                // Runs on the flusher thread: hand the result back to the event loop.
                asio::post(executor, [&broker, pending, topic_name, partition, slot, flush_error, wait_for_fsync] {
                  broker.watchers.notify(topic_name, partition);
                  if (!wait_for_fsync) return;
                  pending->slots[slot].error = flush_error;
                  if (--pending->remaining == 0) pending->done.notify();
                });
              });
          if (!wait_for_fsync) --pending->remaining;
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
  while (pending->remaining > 0) co_await pending->done.wait();
  for (const auto& slot : pending->slots) {
    if (slot.error == ErrorCode::kNone) continue;
    auto& partition_response = response.responses[slot.topic].partition_responses[slot.partition];
    partition_response.error_code = to_wire(slot.error);
    partition_response.base_offset = -1;
  }
  record_errors(broker.metrics, response);
  context.respond(response);
}

}  // namespace runnel::server
