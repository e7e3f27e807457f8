#include "replication/replica_manager.h"

#include <chrono>
#include <functional>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "replication/replica_fetcher.h"

namespace runnel::replication {
namespace {

int64_t steady_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

ReplicaManager::ReplicaManager(asio::any_io_executor executor, ReplicationConfig config, storage::LogManager& logs,
                               storage::Flusher& flusher, IsrChangeChannel& isr_channel)
    : executor_(std::move(executor)),
      config_(std::move(config)),
      logs_(logs),
      flusher_(flusher),
      isr_channel_(isr_channel),
      isr_queued_(executor_),
      isr_check_timer_(executor_) {}

ReplicaManager::~ReplicaManager() {
  *alive_ = false;
  shutdown();
}

void ReplicaManager::start() {
  asio::co_spawn(executor_, isr_check_loop(), asio::detached);
  asio::co_spawn(executor_, isr_sender_loop(), asio::detached);
}

void ReplicaManager::shutdown() {
  if (stopping_) return;
  stopping_ = true;
  for (auto& [key, fetcher] : fetchers_) fetcher->stop();
  fetchers_.clear();
  fetcher_of_.clear();
  for (auto& [topic, list] : partitions_)
    for (auto& p : list)
      if (p) p->stop();
  isr_check_timer_.cancel();
  isr_queued_.notify();
}

std::shared_ptr<Partition> ReplicaManager::get(const std::string& topic, int32_t index) const {
  auto it = partitions_.find(topic);
  if (it == partitions_.end() || index < 0 || static_cast<size_t>(index) >= it->second.size()) return nullptr;
  return it->second[static_cast<size_t>(index)];
}

std::vector<std::shared_ptr<Partition>> ReplicaManager::partitions() const {
  std::vector<std::shared_ptr<Partition>> out;
  for (const auto& [topic, list] : partitions_)
    for (const auto& p : list)
      if (p) out.push_back(p);
  return out;
}

std::shared_ptr<Partition> ReplicaManager::ensure_partition(const std::string& topic, int32_t index,
                                                            const Uuid& topic_id, const storage::LogConfig& config,
                                                            const LeaderAndIsr& state) {
  if (stopping_) return nullptr;
  auto& list = partitions_[topic];
  if (list.size() <= static_cast<size_t>(index)) list.resize(static_cast<size_t>(index) + 1);
  auto& slot = list[static_cast<size_t>(index)];
  if (slot && slot->topic_id() != topic_id) {
    // The topic was deleted and created again under the same name.
    remove_partition(topic, index, /*delete_log=*/true);
  }
  if (!slot) {
    auto [error, log] = logs_.create_log(topic, index, topic_id, config);
    if (error != ErrorCode::kNone || !log) {
      spdlog::error("{}-{}: cannot host the replica: {}", topic, index, error_name(error));
      return nullptr;
    }
    slot = std::make_shared<Partition>(topic, index, topic_id, std::move(log), *this);
    ++count_;
  } else {
    slot->log()->update_config(config);
  }
  auto partition = slot;
  const Role before = partition->role();
  const int32_t epoch_before = partition->leader_epoch();
  const Role after = partition->apply_state(state, steady_now_ms());
  if (after == Role::kFollower && partition->leader_id() >= 0) {
    assign_fetcher(partition);
  } else {
    unassign_fetcher(partition.get());
  }
  if (before != after || epoch_before != partition->leader_epoch()) {
    for (const auto& listener : role_listeners_) listener(partition, before, after);
  }
  return partition;
}

void ReplicaManager::remove_partition(const std::string& topic, int32_t index, bool delete_log) {
  auto it = partitions_.find(topic);
  if (it == partitions_.end() || static_cast<size_t>(index) >= it->second.size()) return;
  auto partition = std::move(it->second[static_cast<size_t>(index)]);
  if (!partition) return;
  --count_;
  while (!it->second.empty() && !it->second.back()) it->second.pop_back();
  if (it->second.empty()) partitions_.erase(it);
  unassign_fetcher(partition.get());
  isr_queue_.erase(partition.get());
  const Role before = partition->role();
  partition->stop();
  for (const auto& listener : role_listeners_) listener(partition, before, Role::kNone);
  if (delete_log) {
    const auto error = logs_.remove_log(topic, index);
    if (error != ErrorCode::kNone) spdlog::warn("{}-{}: removing the replica's log failed: {}", topic, index, error_name(error));
  }
  spdlog::info("{}-{}: no longer hosted here{}", topic, index, delete_log ? " (log deleted)" : "");
}

void ReplicaManager::set_broker_addresses(std::map<int32_t, BrokerAddress> addresses) {
  for (auto& [key, fetcher] : fetchers_) {
    auto it = addresses.find(key.leader);
    if (it != addresses.end()) fetcher->set_address(it->second);
  }
  addresses_ = std::move(addresses);
}

void ReplicaManager::assign_fetcher(const std::shared_ptr<Partition>& partition) {
  const int32_t fetchers = std::max(1, config_.num_replica_fetchers);
  const auto hash = std::hash<std::string>{}(partition->topic()) * 31 + static_cast<size_t>(partition->index());
  const FetcherKey key{partition->leader_id(), static_cast<int32_t>(hash % static_cast<size_t>(fetchers))};
  auto current = fetcher_of_.find(partition.get());
  if (current != fetcher_of_.end()) {
    if (current->second == key) {
      fetchers_.at(key)->add(partition);  // refreshes the epoch it fetches with
      return;
    }
    unassign_fetcher(partition.get());
  }
  auto& fetcher = fetchers_[key];
  if (!fetcher) {
    auto address = addresses_.find(key.leader);
    fetcher = std::make_shared<ReplicaFetcher>(executor_, config_, key.leader,
                                               address == addresses_.end() ? BrokerAddress{} : address->second,
                                               metrics_);
    fetcher->start();
  }
  fetcher->add(partition);
  fetcher_of_[partition.get()] = key;
}

void ReplicaManager::unassign_fetcher(Partition* partition) {
  auto it = fetcher_of_.find(partition);
  if (it == fetcher_of_.end()) return;
  auto fetcher = fetchers_.find(it->second);
  if (fetcher != fetchers_.end()) {
    fetcher->second->remove(partition);
    if (fetcher->second->empty()) {
      fetcher->second->stop();
      fetchers_.erase(fetcher);
    }
  }
  fetcher_of_.erase(it);
}

void ReplicaManager::request_flush(const std::shared_ptr<Partition>& partition, int64_t offset) {
  std::weak_ptr<Partition> weak = partition;
  flusher_.request(partition->log(), offset,
                   [weak, executor = executor_, alive = alive_](int64_t durable, ErrorCode error) {
                     // On the flusher thread: back to the event loop.
                     asio::post(executor, [weak, durable, error, alive] {
                       if (!*alive) return;
                       auto p = weak.lock();
                       if (!p) return;
                       if (error != ErrorCode::kNone) {
                         // The log took itself offline; waiters see it through failed().
                         p->state_waiters().notify();
                         return;
                       }
                       p->on_durable(durable);
                     });
                   });
}

void ReplicaManager::propose_isr(const std::shared_ptr<Partition>& partition, std::vector<int32_t>) {
  ++metrics_.isr_proposals;
  isr_queue_[partition.get()] = partition;
  isr_queued_.notify();
}

asio::awaitable<void> ReplicaManager::isr_check_loop() {
  // Kafka checks every replica.lag.time.max.ms / 2.
  const auto period = std::chrono::milliseconds(std::max<int64_t>(config_.replica_lag_time_max_ms / 2, 10));
  while (!stopping_) {
    isr_check_timer_.expires_after(period);
    asio::error_code ec;
    co_await isr_check_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (stopping_) break;
    const int64_t now = steady_now_ms();
    for (const auto& p : partitions()) p->maybe_shrink_isr(now);
  }
}

asio::awaitable<void> ReplicaManager::isr_sender_loop() {
  asio::steady_timer backoff(executor_);
  while (!stopping_) {
    if (isr_queue_.empty()) {
      co_await isr_queued_.wait();
      continue;
    }
    // Everything proposed meanwhile goes in one request.
    std::vector<std::shared_ptr<Partition>> batch;
    std::vector<IsrChangeChannel::Proposal> proposals;
    for (auto& [raw, weak] : isr_queue_) {
      auto p = weak.lock();
      if (!p || !p->is_leader() || !p->isr_change_pending()) continue;
      proposals.push_back({p->topic(), p->topic_id(), p->index(), p->leader_epoch(), p->state().partition_epoch,
                           p->pending_isr()});
      batch.push_back(std::move(p));
    }
    isr_queue_.clear();
    if (batch.empty()) continue;
    const auto outcomes = co_await isr_channel_.send(proposals);
    bool retry = false;
    for (size_t i = 0; i < batch.size(); ++i) {
      auto& p = batch[i];
      const auto& outcome = i < outcomes.size() ? outcomes[i] : IsrChangeChannel::Outcome{ErrorCode::kUnknownServerError, {}};
      if (outcome.error == ErrorCode::kNone) {
        p->isr_change_done(outcome.state);
        continue;
      }
      const bool transient = outcome.error == ErrorCode::kNotController || outcome.error == ErrorCode::kRequestTimedOut ||
                             outcome.error == ErrorCode::kNetworkException ||
                             outcome.error == ErrorCode::kCoordinatorNotAvailable ||
                             outcome.error == ErrorCode::kUnknownServerError;
      if (transient && p->is_leader() && p->isr_change_pending() && p->leader_epoch() == proposals[i].leader_epoch) {
        isr_queue_[p.get()] = p;  // the controller was not reachable: ask again shortly
        retry = true;
      } else {
        spdlog::info("{}-{}: ISR change refused by the controller: {}", p->topic(), p->index(), error_name(outcome.error));
        p->isr_change_done(std::nullopt);
      }
    }
    if (retry && !stopping_) {
      backoff.expires_after(std::chrono::milliseconds(200));
      asio::error_code ec;
      co_await backoff.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }
}

}  // namespace runnel::replication
