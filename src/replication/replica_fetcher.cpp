#include "replication/replica_fetcher.h"

#include <algorithm>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <spdlog/spdlog.h>

#include "protocol/messages/fetch.h"

namespace runnel::replication {
namespace {

using protocol::FetchRequest;
using protocol::FetchResponse;
using Clock = std::chrono::steady_clock;

}  // namespace

ReplicaFetcher::ReplicaFetcher(asio::any_io_executor executor, const ReplicationConfig& config, int32_t leader_id,
                               BrokerAddress address, ReplicationMetrics& metrics)
    : executor_(std::move(executor)),
      config_(config),
      leader_id_(leader_id),
      address_(std::move(address)),
      metrics_(metrics),
      wake_(executor_) {}

void ReplicaFetcher::start() {
  auto self = shared_from_this();
  asio::co_spawn(executor_, [self]() { return self->run(); }, asio::detached);
}

void ReplicaFetcher::stop() {
  stopped_ = true;
  partitions_.clear();
  if (client_) client_->close();
  wake_.notify();
}

void ReplicaFetcher::add(const std::shared_ptr<Partition>& partition) {
  partitions_[partition.get()] = Entry{partition, {}};
  wake_.notify();
}

void ReplicaFetcher::remove(Partition* partition) { partitions_.erase(partition); }

void ReplicaFetcher::set_address(const BrokerAddress& address) {
  if (address == address_) return;
  address_ = address;
  reset_client();
  wake_.notify();
}

void ReplicaFetcher::reset_client() {
  if (client_) client_->close();
  client_.reset();
}

void ReplicaFetcher::back_off(const std::shared_ptr<Partition>& partition) {
  auto it = partitions_.find(partition.get());
  if (it != partitions_.end())
    it->second.retry_at = Clock::now() + std::chrono::milliseconds(config_.replica_fetch_backoff_ms);
}

asio::awaitable<void> ReplicaFetcher::run() {
  auto self = shared_from_this();
  while (!stopped_) {
    if (partitions_.empty() || address_.port <= 0) {
      co_await wake_.wait();
      continue;
    }
    const bool sent = co_await fetch_once();
    if (!sent) {
      // Everything is backing off: wait for the first to be due, or for news.
      auto due = Clock::time_point::max();
      for (const auto& [raw, entry] : partitions_) due = std::min(due, entry.retry_at);
      co_await wake_.wait_until(due);
    }
  }
}

asio::awaitable<bool> ReplicaFetcher::fetch_once() {
  auto self = shared_from_this();
  const auto now = Clock::now();
  std::vector<Sent> sent;
  FetchRequest request;
  request.replica_id = config_.node_id;
  request.max_wait_ms = config_.replica_fetch_wait_max_ms;
  request.min_bytes = config_.replica_fetch_min_bytes;
  request.max_bytes = config_.replica_fetch_response_max_bytes;
  request.session_id = 0;   // no fetch sessions: every fetch is a full one
  request.session_epoch = -1;
  std::map<std::string, size_t> topic_index;
  for (auto& [raw, entry] : partitions_) {
    const auto& p = entry.partition;
    if (entry.retry_at > now || p->role() != Role::kFollower || p->leader_id() != leader_id_) continue;
    auto [it, inserted] = topic_index.emplace(p->topic(), request.topics.size());
    if (inserted) {
      auto& topic = request.topics.emplace_back();
      topic.topic = p->topic();
      topic.topic_id = p->topic_id();
    }
    auto& out = request.topics[it->second].partitions.emplace_back();
    out.partition = p->index();
    out.current_leader_epoch = p->leader_epoch();
    out.fetch_offset = p->log_end_offset();
    out.last_fetched_epoch = p->log()->latest_epoch();
    out.log_start_offset = p->log_start_offset();
    out.partition_max_bytes = config_.replica_fetch_max_bytes;
    sent.push_back({p, p->leader_epoch(), out.fetch_offset});
  }
  if (sent.empty()) co_return false;

  if (!client_) {
    BrokerClient::Options options;
    options.host = address_.host;
    options.port = static_cast<uint16_t>(address_.port);
    options.source_address = config_.source_address;
    options.client_id = "replica-fetcher-" + std::to_string(config_.node_id);
    options.connect_timeout_ms = config_.replica_socket_timeout_ms;
    // A long poll waits up to replica.fetch.wait.max.ms on purpose.
    options.request_timeout_ms = config_.replica_socket_timeout_ms + config_.replica_fetch_wait_max_ms;
    client_ = BrokerClient::create(executor_, options);
  }
  auto client = client_;
  ++metrics_.fetch_requests;
  auto fail = [&](const std::string& why) {
    ++metrics_.fetch_errors;
    spdlog::debug("replica fetch from broker {} ({}:{}) failed: {}", leader_id_, address_.host, address_.port, why);
    if (client_ == client) reset_client();
    for (const auto& s : sent) back_off(s.partition);
  };
  auto connected = co_await client->connect();
  if (stopped_) co_return true;
  if (!connected) {
    fail(connected.error().describe());
    co_return true;
  }
  // v13 names topics by id (a topic deleted and re-created is not confused); v12 by name.
  const int16_t version = client->pick_version(FetchRequest::kApiKey, 12, 13).value_or(12);
  auto result = co_await client->send(std::move(request), version);
  if (stopped_) co_return true;
  if (!result) {
    fail(result.error().describe());
    co_return true;
  }
  const FetchResponse& response = result->message;
  if (response.error_code != 0) {
    ++metrics_.fetch_errors;
    for (const auto& s : sent) back_off(s.partition);
    co_return true;
  }
  for (const auto& topic : response.responses) {
    for (const auto& data : topic.partitions) {
      auto match = std::find_if(sent.begin(), sent.end(), [&](const Sent& s) {
        const bool same_topic = version >= 13 ? s.partition->topic_id() == topic.topic_id : s.partition->topic() == topic.topic;
        return same_topic && s.partition->index() == data.partition_index;
      });
      if (match != sent.end()) apply(*match, data);
    }
  }
  co_return true;
}

void ReplicaFetcher::apply(const Sent& sent, const FetchResponse::PartitionData& data) {
  const auto& p = sent.partition;
  // The partition may have been removed, or changed leader or epoch, meanwhile.
  if (!partitions_.count(p.get()) || p->role() != Role::kFollower || p->leader_epoch() != sent.leader_epoch ||
      p->log_end_offset() != sent.fetch_offset) {
    return;
  }
  const auto error = static_cast<ErrorCode>(data.error_code);
  if (error == ErrorCode::kNone) {
    if (data.diverging_epoch.epoch >= 0 || data.diverging_epoch.end_offset >= 0) {
      ++metrics_.truncations;
      p->truncate_on_divergence({data.diverging_epoch.epoch, data.diverging_epoch.end_offset});
      return;
    }
    if (data.records.size > 0) {
      // The response buffer is read-only; the follower append validates a copy.
      std::vector<uint8_t> batches(data.records.data, data.records.data + data.records.size);
      metrics_.fetched_bytes += batches.size();
      const auto append_error = p->append_from_leader(batches, data.high_watermark, data.log_start_offset);
      if (append_error != ErrorCode::kNone) {
        spdlog::warn("{}-{}: appending {} bytes fetched from broker {} at offset {} failed: {}", p->topic(), p->index(),
                     batches.size(), leader_id_, sent.fetch_offset, error_name(append_error));
        back_off(p);
      }
    } else {
      p->update_follower_high_watermark(data.high_watermark, data.log_start_offset);
    }
    return;
  }
  if (error == ErrorCode::kOffsetOutOfRange) {
    if (data.log_start_offset >= 0 && sent.fetch_offset < data.log_start_offset) {
      p->restart_at(data.log_start_offset);
    } else {
      // Past the leader's end (it never had our epoch): everything above the
      // leader's high watermark here is uncommitted, so restart from there.
      p->truncate_on_divergence({-1, -1});
    }
    ++metrics_.truncations;
    return;
  }
  // NOT_LEADER_OR_FOLLOWER, FENCED/UNKNOWN_LEADER_EPOCH, UNKNOWN_TOPIC_*: the
  // metadata will move this partition; meanwhile do not hammer the old leader.
  spdlog::debug("{}-{}: replica fetch from broker {}: {}", p->topic(), p->index(), leader_id_, error_name(error));
  ++metrics_.fetch_errors;
  back_off(p);
}

}  // namespace runnel::replication
