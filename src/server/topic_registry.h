#pragma once
// The broker's view of its topics on a single node: lookup by name or id, and
// auto-creation (Kafka's auto.create.topics.enable) on Metadata and Produce.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/config.h"
#include "common/error_code.h"
#include "common/uuid.h"
#include "storage/log_manager.h"

namespace runnel::server {

struct TopicInfo {
  std::string name;
  Uuid id;
  int32_t partitions = 0;
};

class TopicRegistry {
 public:
  TopicRegistry(const BrokerConfig& config, storage::LogManager& logs) : config_(config), logs_(logs) {}

  std::optional<TopicInfo> find(const std::string& name) const;
  std::optional<TopicInfo> find(const Uuid& id) const;
  std::vector<TopicInfo> all() const;

  // INVALID_TOPIC_EXCEPTION for a bad name, UNKNOWN_TOPIC_OR_PARTITION when the
  // topic does not exist and may not be created.
  std::pair<ErrorCode, std::optional<TopicInfo>> find_or_create(const std::string& name, bool allow_auto_create);

  std::shared_ptr<storage::Log> log(const std::string& topic, int32_t partition) const {
    return logs_.get(topic, partition);
  }

 private:
  const BrokerConfig& config_;
  storage::LogManager& logs_;
};

}  // namespace runnel::server
