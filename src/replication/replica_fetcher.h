#pragma once
// One replica fetcher: copies a set of follower partitions from their leader with
// the Kafka Fetch API (replica id = this broker), as Kafka's ReplicaFetcherThread.
// Each fetch carries every partition's offset, current leader epoch and last
// fetched epoch; the answer brings batches to append, a diverging epoch to
// truncate to, or the leader's high watermark and log start. Event loop only.
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>

#include "common/async_event.h"
#include "protocol/messages/fetch.h"
#include "replication/broker_client.h"
#include "replication/partition.h"
#include "replication/replica_manager.h"
#include "replication/replication_config.h"

namespace runnel::replication {

class ReplicaFetcher : public std::enable_shared_from_this<ReplicaFetcher> {
 public:
  ReplicaFetcher(asio::any_io_executor executor, const ReplicationConfig& config, int32_t leader_id,
                 BrokerAddress address, ReplicationMetrics& metrics);

  void start();
  void stop();
  // Adds the partition, or refreshes it after its leader epoch changed.
  void add(const std::shared_ptr<Partition>& partition);
  void remove(Partition* partition);
  bool empty() const { return partitions_.empty(); }
  void set_address(const BrokerAddress& address);

 private:
  struct Entry {
    std::shared_ptr<Partition> partition;
    std::chrono::steady_clock::time_point retry_at{};  // backing off after an error until then
  };
  // What one fetch asked for, so that the answer is applied to the same state.
  struct Sent {
    std::shared_ptr<Partition> partition;
    int32_t leader_epoch;
    int64_t fetch_offset;
  };

  asio::awaitable<void> run();
  // Returns false when nothing could be sent (no partition ready).
  asio::awaitable<bool> fetch_once();
  void apply(const Sent& sent, const protocol::FetchResponse::PartitionData& data);
  void back_off(const std::shared_ptr<Partition>& partition);
  void reset_client();

  asio::any_io_executor executor_;
  const ReplicationConfig& config_;
  const int32_t leader_id_;
  BrokerAddress address_;
  ReplicationMetrics& metrics_;
  std::map<Partition*, Entry> partitions_;
  std::shared_ptr<BrokerClient> client_;
  AsyncEvent wake_;
  bool stopped_ = false;
};

}  // namespace runnel::replication
