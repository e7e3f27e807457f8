#include "cluster/controller_channel.h"

#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "cluster/replica_reconciler.h"
#include "protocol/messages/alter_partition.h"

namespace runnel::cluster {
namespace {

using Clock = std::chrono::steady_clock;
using protocol::AlterPartitionRequest;
using protocol::AlterPartitionResponse;

asio::awaitable<void> pause(const asio::any_io_executor& executor, std::chrono::milliseconds duration) {
  asio::steady_timer timer(executor, duration);
  asio::error_code ec;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

}  // namespace

ControllerChannel::ControllerChannel(asio::any_io_executor executor, ControllerChannelConfig config, MetadataView& view,
                                     Controller& controller, Membership& membership)
    : executor_(std::move(executor)),
      config_(std::move(config)),
      view_(view),
      controller_(controller),
      membership_(membership) {}

ControllerChannel::~ControllerChannel() { close(); }

void ControllerChannel::close() {
  if (client_) client_->close();
  client_.reset();
}

std::shared_ptr<replication::BrokerClient> ControllerChannel::client_for(int32_t controller_id) {
  const auto& image = view_.image();
  const BrokerRegistration* broker = image->broker(controller_id);
  if (!broker || controller_id == config_.node_id) return nullptr;
  const BrokerEndpoint* e = broker->endpoint(config_.inter_broker_listener);
  if (!e && !broker->endpoints.empty()) e = &broker->endpoints.front();
  if (!e) return nullptr;
  const replication::BrokerAddress address{e->host, e->port};
  if (client_ && client_broker_ == controller_id && client_address_ == address) return client_;
  close();
  replication::BrokerClient::Options options;
  options.host = e->host;
  options.port = static_cast<uint16_t>(e->port);
  options.source_address = config_.source_address;
  options.client_id = "broker-" + std::to_string(config_.node_id) + "-to-controller";
  options.connect_timeout_ms = std::min(config_.request_timeout_ms, 5000);
  options.request_timeout_ms = config_.request_timeout_ms;
  client_ = replication::BrokerClient::create(executor_, options);
  client_broker_ = controller_id;
  client_address_ = address;
  return client_;
}

asio::awaitable<ControllerChannel::Forwarded> ControllerChannel::forward(int16_t api_key, int16_t api_version,
                                                                         std::span<const uint8_t> body,
                                                                         Clock::time_point deadline) {
  Forwarded result;
  for (;;) {
    const int32_t controller_id = view_.image()->controller_id();
    if (controller_id >= 0 && controller_id != config_.node_id) {
      auto client = client_for(controller_id);
      if (client) {
        auto answer = co_await client->send_raw(api_key, api_version, body);
        if (answer) {
          const auto bytes = answer->body();
          result.body.assign(bytes.begin(), bytes.end());
          co_return result;
        }
        spdlog::debug("forwarding api {} to controller {} failed: {}", api_key, controller_id, answer.error().describe());
        if (client_ == client) close();
      }
    }
    // No controller yet, or it just changed: wait for the image to tell us more.
    if (Clock::now() >= deadline) break;
    const auto until = std::min(deadline, Clock::now() + std::chrono::milliseconds(500));
    const std::function<bool(const MetadataImage&)> changed = [controller_id](const MetadataImage& image) {
      return image.controller_id() != controller_id;
    };
    co_await view_.wait_until(changed, until);
    // The caller handles requests for a controller that is now this broker.
    if (controller_.active()) break;
  }
  result.error = ErrorCode::kNotController;
  co_return result;
}

asio::awaitable<std::vector<ControllerChannel::Outcome>> ControllerChannel::send(std::vector<Proposal> proposals) {
  std::vector<Outcome> outcomes(proposals.size());
  if (controller_.active()) {
    std::vector<IsrChange> changes;
    for (const auto& p : proposals) {
      IsrChange change;
      change.partition = {p.topic, p.partition};
      change.topic_id = p.topic_id;
      change.request = {config_.node_id, membership_.broker_epoch(), p.leader_epoch, p.partition_epoch, p.new_isr};
      changes.push_back(std::move(change));
    }
    const auto results = co_await controller_.change_isr(changes);
    for (size_t i = 0; i < results.size() && i < outcomes.size(); ++i) {
      outcomes[i].error = results[i].error;
      if (results[i].state) outcomes[i].state = to_leader_and_isr(*results[i].state);
    }
    co_return outcomes;
  }
  auto fail_all = [&](ErrorCode error) {
    for (auto& o : outcomes) o.error = error;
  };
  const int32_t controller_id = view_.image()->controller_id();
  auto client = controller_id >= 0 ? client_for(controller_id) : nullptr;
  if (!client) {
    co_await pause(executor_, std::chrono::milliseconds(100));
    fail_all(ErrorCode::kNotController);
    co_return outcomes;
  }
  AlterPartitionRequest request;
  request.broker_id = config_.node_id;
  request.broker_epoch = membership_.broker_epoch();
  constexpr int16_t kVersion = 2;  // topics by id
  for (const auto& p : proposals) {
    auto topic = std::find_if(request.topics.begin(), request.topics.end(),
                              [&](const auto& t) { return t.topic_id == p.topic_id; });
    if (topic == request.topics.end()) {
      topic = request.topics.emplace(request.topics.end());
      topic->topic_id = p.topic_id;
      topic->topic_name = p.topic;
    }
    auto& out = topic->partitions.emplace_back();
    out.partition_index = p.partition;
    out.leader_epoch = p.leader_epoch;
    out.new_isr = p.new_isr;
    out.partition_epoch = p.partition_epoch;
  }
  auto answer = co_await client->send(std::move(request), kVersion);
  if (!answer) {
    if (client_ == client) close();
    fail_all(ErrorCode::kNetworkException);
    co_return outcomes;
  }
  const AlterPartitionResponse& response = answer->message;
  if (response.error_code != 0) {
    fail_all(static_cast<ErrorCode>(response.error_code));
    co_return outcomes;
  }
  for (size_t i = 0; i < proposals.size(); ++i) {
    outcomes[i].error = ErrorCode::kUnknownServerError;
    for (const auto& topic : response.topics) {
      if (topic.topic_id != proposals[i].topic_id) continue;
      for (const auto& p : topic.partitions) {
        if (p.partition_index != proposals[i].partition) continue;
        outcomes[i].error = static_cast<ErrorCode>(p.error_code);
        if (p.error_code == 0) {
          replication::LeaderAndIsr state;
          state.leader = p.leader_id;
          state.leader_epoch = p.leader_epoch;
          state.isr = p.isr;
          state.partition_epoch = p.partition_epoch;
          // Replicas are not in the response: they did not change.
          if (const PartitionEntry* entry = view_.image()->partition(proposals[i].topic, proposals[i].partition))
            state.replicas = entry->state.replicas;
          outcomes[i].state = state;
        }
      }
    }
  }
  co_return outcomes;
}

}  // namespace runnel::cluster
