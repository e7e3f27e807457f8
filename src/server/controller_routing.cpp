#include "server/controller_routing.h"

#include <spdlog/spdlog.h>

#include "common/internal_topics.h"
#include "protocol/messages/create_topics.h"
#include "storage/topic_name.h"

namespace runnel::server {
namespace {

using Clock = std::chrono::steady_clock;

// How long a request waits for a controller to be elected and answer.
constexpr auto kControllerWait = std::chrono::seconds(30);
constexpr auto kTopicWait = std::chrono::seconds(10);

}  // namespace

asio::awaitable<Routing> route_to_controller(BrokerContext& broker, RequestContext& context) {
  auto& controller = broker.cluster.controller();
  if (controller.active()) co_return Routing::kHandleHere;
  auto forwarded = co_await broker.cluster.controller_channel().forward(
      context.header.request_api_key, context.version(), context.body, Clock::now() + kControllerWait);
  if (forwarded.error == ErrorCode::kNone) {
    context.response_body = std::move(forwarded.body);
    co_return Routing::kForwarded;
  }
  // The election may have made this broker the controller meanwhile.
  co_return controller.active() ? Routing::kHandleHere : Routing::kNoController;
}

asio::awaitable<std::vector<cluster::CreatedTopic>> create_topics_via_controller(BrokerContext& broker,
                                                                                std::vector<cluster::NewTopic> topics) {
  std::vector<cluster::CreatedTopic> results(topics.size());
  auto& controller = broker.cluster.controller();
  if (controller.active()) {
    results = co_await controller.create_topics(topics, false);
  } else {
    protocol::CreateTopicsRequest request;
    request.timeout_ms = static_cast<int32_t>(std::chrono::milliseconds(kTopicWait).count());
    for (const auto& t : topics) {
      auto& out = request.topics.emplace_back();
      out.name = t.name;
      out.num_partitions = t.partitions;
      out.replication_factor = t.replication_factor;
      for (const auto& [key, value] : t.configs) {
        auto& config = out.configs.emplace_back();
        config.name = key;
        config.value = value;
      }
    }
    constexpr int16_t kVersion = 7;
    std::vector<uint8_t> body;
    protocol::Writer writer(body);
    request.encode(writer, kVersion);
    auto forwarded = co_await broker.cluster.controller_channel().forward(
        protocol::CreateTopicsRequest::kApiKey, kVersion, body, Clock::now() + kControllerWait);
    if (forwarded.error != ErrorCode::kNone) {
      if (controller.active()) co_return co_await create_topics_via_controller(broker, std::move(topics));
      for (auto& r : results) r.result = {ErrorCode::kNotController, "No controller could be reached."};
      co_return results;
    }
    protocol::CreateTopicsResponse response;
    try {
      protocol::Reader reader(forwarded.body);
      response.decode(reader, kVersion);
    } catch (const protocol::DecodeError& e) {
      for (auto& r : results) r.result = {ErrorCode::kUnknownServerError, std::string("bad controller answer: ") + e.what()};
      co_return results;
    }
    for (size_t i = 0; i < results.size() && i < response.topics.size(); ++i) {
      const auto& t = response.topics[i];
      results[i].result = {static_cast<ErrorCode>(t.error_code), t.error_message.value_or("")};
      results[i].id = t.topic_id;
      results[i].partitions = t.num_partitions;
      results[i].replication_factor = t.replication_factor;
    }
  }
  std::vector<std::string> created;
  for (size_t i = 0; i < results.size(); ++i)
    if (results[i].result.ok()) created.push_back(topics[i].name);
  if (!created.empty()) co_await wait_for_leaders(broker, created, kTopicWait);
  co_return results;
}

asio::awaitable<void> wait_for_leaders(BrokerContext& broker, const std::vector<std::string>& topics,
                                       std::chrono::milliseconds timeout) {
  const std::function<bool(const cluster::MetadataImage&)> ready = [&topics](const cluster::MetadataImage& image) {
        for (const auto& name : topics) {
          const auto* topic = image.topic(name);
          if (!topic) return false;
          for (int32_t p = 0; p < topic->partition_count(); ++p) {
            const auto* entry = topic->partition(p);
            if (!entry || entry->state.leader < 0) return false;
          }
        }
        return true;
  };
  co_await broker.cluster.view().wait_until(ready, Clock::now() + timeout);
}

asio::awaitable<ErrorCode> ensure_topic(BrokerContext& broker, const std::string& name, bool allow_auto_create) {
  if (broker.cluster.image()->topic(name)) co_return ErrorCode::kNone;
  if (storage::topic_name_error(name)) co_return ErrorCode::kInvalidTopicException;
  if (!allow_auto_create || is_internal_topic(name)) co_return ErrorCode::kUnknownTopicOrPartition;
  cluster::NewTopic topic;
  topic.name = name;
  std::vector<cluster::NewTopic> topics{topic};
  const auto results = co_await create_topics_via_controller(broker, std::move(topics));
  const auto& result = results.front().result;
  if (!result.ok() && result.error != ErrorCode::kTopicAlreadyExists) {
    spdlog::warn("auto-creating topic {} failed: {}", name, result.message);
    // Kafka answers LEADER_NOT_AVAILABLE while an auto-created topic is not ready.
    co_return result.error == ErrorCode::kNotController ? ErrorCode::kLeaderNotAvailable : result.error;
  }
  if (!broker.cluster.image()->topic(name)) {
    const std::vector<std::string> names{name};
    co_await wait_for_leaders(broker, names, kTopicWait);
    if (!broker.cluster.image()->topic(name)) co_return ErrorCode::kLeaderNotAvailable;
  }
  co_return ErrorCode::kNone;
}

}  // namespace runnel::server

namespace runnel::server {

asio::awaitable<bool> ensure_offsets_topic(BrokerContext& broker) {
  if (broker.cluster.image()->topic(kOffsetsTopic)) co_return true;
  cluster::NewTopic topic;
  topic.name = kOffsetsTopic;
  topic.partitions = broker.config.offsets_topic_num_partitions;
  topic.replication_factor = broker.config.offsets_topic_replication_factor;
  // Compacted, as in Kafka, with its 100 MiB segments.
  topic.configs = {{"cleanup.policy", "compact"}, {"segment.bytes", "104857600"}};
  std::vector<cluster::NewTopic> topics{topic};
  co_await create_topics_via_controller(broker, std::move(topics));
  co_return broker.cluster.image()->topic(kOffsetsTopic) != nullptr;
}

}  // namespace runnel::server
