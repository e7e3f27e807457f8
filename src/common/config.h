#pragma once
// Broker configuration: Kafka's `server.properties` names, read from a file and
// `--set key=value` overrides. Invalid values stop startup with one clear line.
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace runnel {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Listener {
  std::string name;  // e.g. PLAINTEXT
  std::string host;  // empty means all interfaces
  uint16_t port = 0;
  std::string to_string() const;
};

struct BrokerConfig {
  int32_t node_id = 0;
  std::vector<Listener> listeners{{"PLAINTEXT", "127.0.0.1", 9092}};
  std::vector<Listener> advertised_listeners;  // empty: same as listeners
  // http.listeners: where GET /metrics is served; empty (`http.listeners=`) turns it off.
  std::vector<Listener> http_listeners{{"http", "127.0.0.1", 9644}};
  std::vector<std::string> log_dirs{"./runnel-data"};
  int32_t num_partitions = 1;
  int16_t default_replication_factor = 1;
  bool auto_create_topics_enable = true;
  int64_t log_segment_bytes = 1LL << 30;
  int64_t log_roll_ms = 168LL * 3600 * 1000;
  int32_t log_index_interval_bytes = 4096;
  int32_t log_index_size_max_bytes = 10 << 20;
  int32_t message_max_bytes = 1048588;
  int32_t socket_request_max_bytes = 104857600;
  int32_t fetch_max_bytes = 57671680;  // KIP-541: the most one Fetch response carries
  int64_t queued_max_request_bytes = 256LL << 20;
  // Requests read ahead per connection. Many: a client sending one small
  // produce per partition (librdkafka) must get them all into one fsync round.
  int32_t max_inflight_requests_per_connection = 1000;
  int32_t max_connections = 10000;
  int64_t connections_max_idle_ms = 600000;
  bool log_append_time = false;  // log.message.timestamp.type=LogAppendTime
  // Kafka's flush policy. Unset (the default): every acks=1/all write is fsynced
  // before it is acknowledged. Set: acks=1 is answered after the write reaches
  // the page cache and fsync follows the interval, as in Kafka.
  std::optional<int64_t> log_flush_interval_messages;
  std::optional<int64_t> log_flush_interval_ms;
  // cluster.id: the id a new cluster is created with (empty: a random one, in
  // Kafka's 22-character base64 UUID form); an existing cluster keeps its own.
  std::string cluster_id;
  // Cluster membership and metadata (see docs/cluster.md).
  std::optional<std::string> broker_rack;               // broker.rack
  std::string metadata_store = "local";                 // metadata.store: local or etcd://HOST:PORT[,...]
  std::string metadata_store_prefix = "/runnel";        // metadata.store.prefix
  int64_t metadata_store_connect_timeout_ms = 15000;    // how long startup waits for the store
  int64_t broker_session_timeout_ms = 9000;             // broker.session.timeout.ms
  int64_t broker_heartbeat_interval_ms = 2000;          // broker.heartbeat.interval.ms
  int16_t offsets_topic_replication_factor = 3;         // capped to the live brokers at creation
  int64_t offsets_commit_timeout_ms = 5000;             // offsets.commit.timeout.ms
  // Replication (Kafka's names and defaults).
  int32_t num_replica_fetchers = 1;
  int32_t replica_fetch_max_bytes = 1048576;
  int32_t replica_fetch_response_max_bytes = 10485760;
  int32_t replica_fetch_wait_max_ms = 500;
  int32_t replica_fetch_min_bytes = 1;
  int32_t replica_fetch_backoff_ms = 1000;
  int32_t replica_socket_timeout_ms = 30000;
  int64_t replica_lag_time_max_ms = 30000;
  std::string inter_broker_listener_name;               // empty: the first listener's name
  std::map<std::string, std::string> listener_security_protocols;  // listener.security.protocol.map
  // replica.selector.class: when set to Kafka's RackAwareReplicaSelector,
  // consumers with client.rack fetch from a replica in their rack (KIP-392).
  std::string replica_selector_class;
  bool auto_leader_rebalance_enable = true;
  int64_t leader_imbalance_check_interval_ms = 300000;  // leader.imbalance.check.interval.seconds
  int32_t leader_imbalance_per_broker_percentage = 10;
  bool controlled_shutdown_enable = true;
  int64_t controlled_shutdown_timeout_ms = 30000;       // how long SIGTERM waits for leadership to move
  // Group coordinator (Kafka's names and defaults).
  int32_t offsets_topic_num_partitions = 50;
  int64_t offsets_retention_ms = 10080LL * 60 * 1000;  // offsets.retention.minutes
  int64_t offsets_retention_check_interval_ms = 600000;
  int32_t offset_metadata_max_bytes = 4096;
  int32_t group_initial_rebalance_delay_ms = 3000;
  int32_t group_min_session_timeout_ms = 6000;
  int32_t group_max_session_timeout_ms = 1800000;
  int32_t group_max_size = INT32_MAX;
  // Storage background work: retention, cleaner, checkpoints, producer state.
  int64_t log_retention_check_interval_ms = 300000;
  int64_t log_flush_offset_checkpoint_interval_ms = 60000;
  int32_t log_flush_threads = 32;  // fsyncs of distinct logs run side by side
  // The commit journal (storage/commit_journal.h): one fdatasync per flush round.
  bool log_journal_enable = true;
  int64_t log_journal_checkpoint_bytes = 64LL << 20;
  int64_t log_journal_checkpoint_interval_ms = 2000;
  int64_t log_journal_max_log_bytes = 256 << 10;
  bool log_cleaner_enable = true;
  int64_t log_cleaner_backoff_ms = 15000;
  int64_t producer_id_expiration_ms = 86400000;
  int64_t producer_id_expiration_check_interval_ms = 600000;
  int64_t transactional_id_expiration_ms = 604800000;  // accepted; no transactions yet

  // Every setting given explicitly (file or --set), raw; topic-config defaults
  // come from these (e.g. log.retention.hours is retention.ms's default).
  std::map<std::string, std::string> explicit_settings;

  // Where the values came from, for the startup banner.
  std::string source = "defaults";

  const std::vector<Listener>& effective_advertised_listeners() const {
    return advertised_listeners.empty() ? listeners : advertised_listeners;
  }
  const std::string& inter_broker_listener() const {
    return inter_broker_listener_name.empty() ? listeners.front().name : inter_broker_listener_name;
  }
  bool uses_local_metadata_store() const { return metadata_store == "local"; }
  bool rack_aware_replica_selector() const { return !replica_selector_class.empty(); }
};

class ConfigLoader {
 public:
  // Reads a server.properties-style file: key=value lines, '#' or '!' comments.
  void load_file(const std::string& path);
  // One "key=value" override (as given to --set).
  void set_override(const std::string& assignment);
  void set(const std::string& key, const std::string& value, const std::string& origin);

  // Validates and returns the config; throws ConfigError naming the setting.
  BrokerConfig build() const;
  // Kafka settings that Runnel accepts but does not use.
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  struct Entry {
    std::string value;
    std::string origin;
  };
  std::map<std::string, Entry> values_;
  std::vector<std::string> warnings_;
  std::vector<std::string> sources_;
};

// Parsing helpers shared by the config and the CLI.
// "a, b,,c" -> {"a", "b", "c"}: comma-separated, items trimmed, empty ones dropped.
std::vector<std::string> split_config_list(std::string_view text);
std::vector<Listener> parse_listeners(const std::string& key, const std::string& text);
// "http://host:port[,...]"; an empty or blank value is an empty list (endpoint off).
std::vector<Listener> parse_http_listeners(const std::string& key, const std::string& text);

}  // namespace runnel
