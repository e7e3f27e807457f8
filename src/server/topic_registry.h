#pragma once
// The broker's view of its topics on a single node: lookup by name or id,
// auto-creation (auto.create.topics.enable), admin operations (create, delete,
// add partitions) and per-topic config overrides, applied live to the logs.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cluster/topic_config_store.h"
#include "common/config.h"
#include "common/error_code.h"
#include "common/topic_config.h"
#include "common/uuid.h"
#include "storage/log_manager.h"

namespace runnel::server {

struct TopicInfo {
  std::string name;
  Uuid id;
  int32_t partitions = 0;
};

// An error code with the message Kafka clients show to users.
struct AdminResult {
  ErrorCode error = ErrorCode::kNone;
  std::string message;
  bool ok() const { return error == ErrorCode::kNone; }
};

class TopicRegistry {
 public:
  // Sanity bound on partitions per topic; Kafka has none, but one request must
  // not be able to create millions of directories.
  static constexpr int32_t kMaxPartitionsPerTopic = 100000;

  TopicRegistry(const BrokerConfig& config, storage::LogManager& logs);

  // Loads persisted topic configs and applies them to the opened logs.
  void load();

  std::optional<TopicInfo> find(const std::string& name) const;
  std::optional<TopicInfo> find(const Uuid& id) const;
  std::vector<TopicInfo> all() const;

  // INVALID_TOPIC_EXCEPTION for a bad name, UNKNOWN_TOPIC_OR_PARTITION when the
  // topic does not exist and may not be created.
  std::pair<ErrorCode, std::optional<TopicInfo>> find_or_create(const std::string& name, bool allow_auto_create);

  AdminResult validate_new_topic(const std::string& name, int32_t partitions, int16_t replication_factor,
                                 const ConfigMap& configs) const;
  AdminResult create_topic(const std::string& name, int32_t partitions, const ConfigMap& configs, Uuid* id_out);
  AdminResult delete_topic(const std::string& name);
  AdminResult add_partitions(const std::string& name, int32_t new_total, bool validate_only);

  const ConfigMap& overrides(const std::string& topic) const { return config_store_.overrides(topic); }
  AdminResult validate_overrides(const ConfigMap& overrides) const;
  // Replaces a topic's overrides, persists them and applies them to its logs.
  AdminResult set_overrides(const std::string& topic, const ConfigMap& overrides);
  std::vector<DescribedConfig> describe_configs(const std::string& topic) const {
    return resolver_.describe(overrides(topic));
  }
  const TopicConfigResolver& resolver() const { return resolver_; }
  storage::LogConfig log_config(const ConfigMap& overrides) const;

  std::shared_ptr<storage::Log> log(const std::string& topic, int32_t partition) const {
    return logs_.get(topic, partition);
  }
  storage::LogManager& logs() { return logs_; }

 private:
  const BrokerConfig& config_;
  storage::LogManager& logs_;
  TopicConfigResolver resolver_;
  cluster::TopicConfigStore config_store_;
};

}  // namespace runnel::server
