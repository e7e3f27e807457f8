#pragma once
// What the cluster keeps in the metadata store, key by key, and the JSON each
// value holds (readable with `etcdctl get --prefix /runnel`):
//
//   <prefix>/cluster_id               the cluster id (22-char base64 UUID), created once
//   <prefix>/brokers/<id>             BrokerRegistration, bound to the broker's session
//   <prefix>/controller               ControllerRecord, bound to the controller's session
//   <prefix>/controller_epoch         the last controller epoch handed out
//   <prefix>/topics/<name>            TopicRecord (id, partition count)
//   <prefix>/configs/<name>           the topic's config overrides
//   <prefix>/partitions/<name>/<p>    PartitionState (replicas, leader, epochs, ISR)
//   <prefix>/producer_id_block        the end of the last producer-id block handed out
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/topic_config.h"
#include "common/uuid.h"

namespace runnel::cluster {

struct BrokerEndpoint {
  std::string listener;  // e.g. PLAINTEXT
  std::string host;
  int32_t port = 0;
  bool operator==(const BrokerEndpoint&) const = default;
};

struct BrokerRegistration {
  int32_t id = -1;
  std::vector<BrokerEndpoint> endpoints;  // advertised listeners
  std::optional<std::string> rack;
  // Identifies the process's data dir (meta.properties' directory.id): a broker
  // restarting on the same disk may replace its own stale registration.
  std::string incarnation;
  std::string inter_broker_listener;
  // Set by the broker when it starts a controlled shutdown: the controller moves
  // leadership away and elects it nowhere.
  bool shutting_down = false;
  // Not in the JSON: the key's create revision, unique per registration. Kafka's
  // broker epoch: an ISR change from an older registration is refused.
  int64_t epoch = 0;

  const BrokerEndpoint* endpoint(const std::string& listener) const;
  bool operator==(const BrokerRegistration&) const = default;
};

struct ControllerRecord {
  int32_t broker_id = -1;
  int64_t epoch = 0;
  int64_t mod_revision = 0;  // not in the JSON: the key's revision, for fencing
};

struct TopicRecord {
  Uuid id;
  int32_t partitions = 0;
};

// Kafka's PartitionRecord: who holds the partition and who leads it.
struct PartitionState {
  std::vector<int32_t> replicas;  // the first one is the preferred leader
  std::vector<int32_t> isr;
  int32_t leader = -1;  // -1: offline
  int32_t leader_epoch = 0;
  // Bumped on every change; AlterPartition requests must name the current one.
  int32_t partition_epoch = 0;
  // The leader's broker epoch (registration) when it was elected. A leader that
  // registered again since (it restarted) leads only after a new election, at a
  // new leader epoch: its log may have lost an unsynced tail that followers hold.
  int64_t leader_broker_epoch = 0;
  // A reassignment in progress (KIP-455): `replicas` holds old and new during it.
  std::vector<int32_t> adding_replicas;
  std::vector<int32_t> removing_replicas;
  bool operator==(const PartitionState&) const = default;
};

class MetadataKeys {
 public:
  explicit MetadataKeys(std::string prefix);  // e.g. "/runnel"; a trailing '/' is dropped

  const std::string& prefix() const { return prefix_; }  // with a trailing '/'
  std::string cluster_id() const { return prefix_ + "cluster_id"; }
  std::string brokers() const { return prefix_ + "brokers/"; }
  std::string broker(int32_t id) const { return brokers() + std::to_string(id); }
  std::string controller() const { return prefix_ + "controller"; }
  std::string controller_epoch() const { return prefix_ + "controller_epoch"; }
  std::string topics() const { return prefix_ + "topics/"; }
  std::string topic(const std::string& name) const { return topics() + name; }
  std::string configs() const { return prefix_ + "configs/"; }
  std::string config(const std::string& topic) const { return configs() + topic; }
  std::string partitions() const { return prefix_ + "partitions/"; }
  std::string partitions_of(const std::string& topic) const { return partitions() + topic + "/"; }
  std::string partition(const std::string& topic, int32_t p) const { return partitions_of(topic) + std::to_string(p); }
  std::string producer_id_block() const { return prefix_ + "producer_id_block"; }

  // What a key under the prefix names.
  struct Parsed {
    enum class Kind { kUnknown, kClusterId, kBroker, kController, kControllerEpoch, kTopic, kConfig, kPartition,
                      kProducerIdBlock };
    Kind kind = Kind::kUnknown;
    std::string topic;
    int32_t id = -1;  // broker id or partition
  };
  Parsed parse(const std::string& key) const;

 private:
  std::string prefix_;
};

// JSON codecs. decode_* return nullopt for a value that does not parse (logged by
// the caller), so a stray or hand-edited key cannot crash a broker.
std::string encode(const BrokerRegistration& broker);
std::optional<BrokerRegistration> decode_broker(const std::string& json);
std::string encode(const ControllerRecord& controller);
std::optional<ControllerRecord> decode_controller(const std::string& json);
std::string encode(const TopicRecord& topic);
std::optional<TopicRecord> decode_topic(const std::string& json);
std::string encode(const PartitionState& state);
std::optional<PartitionState> decode_partition(const std::string& json);
std::string encode_configs(const ConfigMap& configs);
std::optional<ConfigMap> decode_configs(const std::string& json);
std::optional<int64_t> decode_int(const std::string& text);

}  // namespace runnel::cluster
