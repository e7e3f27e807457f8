#pragma once
// Replication settings (Kafka's names), as the ReplicaManager and its fetchers use them.
#include <cstdint>
#include <string>

namespace runnel::replication {

struct ReplicationConfig {
  int32_t node_id = 0;
  int64_t replica_lag_time_max_ms = 30000;          // replica.lag.time.max.ms
  int32_t num_replica_fetchers = 1;                 // num.replica.fetchers
  int32_t replica_fetch_max_bytes = 1 << 20;        // replica.fetch.max.bytes (per partition)
  int32_t replica_fetch_response_max_bytes = 10 << 20;  // replica.fetch.response.max.bytes
  int32_t replica_fetch_wait_max_ms = 500;          // replica.fetch.wait.max.ms
  int32_t replica_fetch_min_bytes = 1;              // replica.fetch.min.bytes
  int32_t replica_fetch_backoff_ms = 1000;          // replica.fetch.backoff.ms
  int32_t replica_socket_timeout_ms = 30000;        // replica.socket.timeout.ms
  // Which advertised listener of the other brokers replication connects to.
  std::string inter_broker_listener = "PLAINTEXT";  // inter.broker.listener.name
  // Local address outbound connections leave from ("" = the kernel's choice).
  std::string source_address;
};

}  // namespace runnel::replication
