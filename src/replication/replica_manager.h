#pragma once
// Every replica this broker hosts: creates and removes their logs, applies the
// leadership the controller decided, runs the replica fetchers that keep its
// follower replicas copying from their leaders, checks its leader replicas' ISR
// and sends the changes to the controller. Event loop only.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/steady_timer.hpp>

#include "common/async_event.h"
#include "replication/leader_and_isr.h"
#include "replication/partition.h"
#include "replication/replication_config.h"
#include "storage/flusher.h"
#include "storage/log_manager.h"

namespace runnel::replication {

class ReplicaFetcher;

struct BrokerAddress {
  std::string host;
  int32_t port = 0;
  bool operator==(const BrokerAddress&) const = default;
};

// How ISR proposals reach the controller (AlterPartition); implemented above
// this layer, where the controller is known.
class IsrChangeChannel {
 public:
  struct Proposal {
    std::string topic;
    Uuid topic_id;
    int32_t partition = 0;
    int32_t leader_epoch = 0;
    int32_t partition_epoch = 0;
    std::vector<int32_t> new_isr;
  };
  struct Outcome {
    ErrorCode error = ErrorCode::kNone;
    std::optional<LeaderAndIsr> state;  // the committed state when error == kNone
  };
  virtual ~IsrChangeChannel() = default;
  // One outcome per proposal, in order. A transport failure: every outcome has
  // the error (e.g. NOT_CONTROLLER, REQUEST_TIMED_OUT) and they are retried.
  virtual asio::awaitable<std::vector<Outcome>> send(std::vector<Proposal> proposals) = 0;
};

struct ReplicationMetrics {
  uint64_t fetch_requests = 0;      // replica fetches this broker sent
  uint64_t fetch_errors = 0;
  uint64_t fetched_bytes = 0;
  uint64_t truncations = 0;
  uint64_t isr_proposals = 0;
};

class ReplicaManager final : public PartitionHost {
 public:
  ReplicaManager(asio::any_io_executor executor, ReplicationConfig config, storage::LogManager& logs,
                 storage::Flusher& flusher, IsrChangeChannel& isr_channel);
  ~ReplicaManager() override;
  ReplicaManager(const ReplicaManager&) = delete;
  ReplicaManager& operator=(const ReplicaManager&) = delete;

  void start();
  // Stops fetchers and timers; partitions stop serving (waiters wake).
  void shutdown();

  // Hosts the partition (its log is created if missing) with this leadership.
  // nullptr when the log cannot be created (logged; the partition stays offline here).
  std::shared_ptr<Partition> ensure_partition(const std::string& topic, int32_t index, const Uuid& topic_id,
                                              const storage::LogConfig& config, const LeaderAndIsr& state);
  // Stops hosting it; with delete_log its files go too (topic deleted or replica moved away).
  void remove_partition(const std::string& topic, int32_t index, bool delete_log);
  // Where each live broker's replication listener is (fetchers connect there).
  void set_broker_addresses(std::map<int32_t, BrokerAddress> addresses);

  std::shared_ptr<Partition> get(const std::string& topic, int32_t index) const;
  std::vector<std::shared_ptr<Partition>> partitions() const;
  size_t partition_count() const { return count_; }

  // Runs after a partition's role or leader epoch changed (e.g. the group
  // coordinator loads or unloads a __consumer_offsets partition).
  using RoleListener = std::function<void(const std::shared_ptr<Partition>&, Role before, Role after)>;
  void on_role_change(RoleListener listener) { role_listeners_.push_back(std::move(listener)); }

  const ReplicationConfig& config() const { return config_; }
  const ReplicationMetrics& metrics() const { return metrics_; }
  ReplicationMetrics& mutable_metrics() { return metrics_; }
  asio::any_io_executor executor() const { return executor_; }

  // PartitionHost
  int32_t node_id() const override { return config_.node_id; }
  int64_t replica_lag_time_max_ms() const override { return config_.replica_lag_time_max_ms; }
  void request_flush(const std::shared_ptr<Partition>& partition, int64_t offset) override;
  void propose_isr(const std::shared_ptr<Partition>& partition, std::vector<int32_t> isr) override;

 private:
  struct FetcherKey {
    int32_t leader;
    int32_t index;
    auto operator<=>(const FetcherKey&) const = default;
  };
  void assign_fetcher(const std::shared_ptr<Partition>& partition);
  void unassign_fetcher(Partition* partition);
  asio::awaitable<void> isr_check_loop();
  asio::awaitable<void> isr_sender_loop();

  asio::any_io_executor executor_;
  ReplicationConfig config_;
  storage::LogManager& logs_;
  storage::Flusher& flusher_;
  IsrChangeChannel& isr_channel_;
  // topic -> partitions by index (nullptr where not hosted): one hash lookup per request.
  std::unordered_map<std::string, std::vector<std::shared_ptr<Partition>>> partitions_;
  size_t count_ = 0;
  std::map<int32_t, BrokerAddress> addresses_;
  std::map<FetcherKey, std::shared_ptr<ReplicaFetcher>> fetchers_;
  std::unordered_map<Partition*, FetcherKey> fetcher_of_;
  std::vector<RoleListener> role_listeners_;
  std::map<Partition*, std::weak_ptr<Partition>> isr_queue_;  // proposals not yet sent
  AsyncEvent isr_queued_;
  asio::steady_timer isr_check_timer_;
  bool stopping_ = false;
  ReplicationMetrics metrics_;
  // Lets flusher callbacks tell whether the manager is still there.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace runnel::replication
