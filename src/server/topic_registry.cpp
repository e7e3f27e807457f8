#include "server/topic_registry.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "storage/topic_name.h"

namespace runnel::server {

TopicRegistry::TopicRegistry(const BrokerConfig& config, storage::LogManager& logs)
    : config_(config), logs_(logs), resolver_(config.explicit_settings) {}

void TopicRegistry::load() {
  if (const auto ec = config_store_.open(config_.log_dirs.front())) {
    spdlog::error("topic config file {}/{} is unreadable ({}); topics use broker defaults",
                  config_.log_dirs.front(), cluster::TopicConfigStore::kFileName, ec.message());
  }
  for (const auto& topic : all()) {
    const auto log_config = this->log_config(overrides(topic.name));
    for (int32_t p = 0; p < topic.partitions; ++p) {
      if (auto partition_log = log(topic.name, p)) partition_log->update_config(log_config);
    }
  }
}

std::optional<TopicInfo> TopicRegistry::find(const std::string& name) const {
  const auto topics = logs_.topics();
  const auto found = topics.find(name);
  if (found == topics.end()) return std::nullopt;
  return TopicInfo{name, found->second.id, found->second.partitions};
}

std::optional<TopicInfo> TopicRegistry::find(const Uuid& id) const {
  if (id.is_zero()) return std::nullopt;
  const auto name = logs_.topic_by_id(id);
  return name ? find(*name) : std::nullopt;
}

std::vector<TopicInfo> TopicRegistry::all() const {
  std::vector<TopicInfo> result;
  for (const auto& [name, info] : logs_.topics()) result.push_back({name, info.id, info.partitions});
  return result;
}

std::pair<ErrorCode, std::optional<TopicInfo>> TopicRegistry::find_or_create(const std::string& name,
                                                                               bool allow_auto_create) {
  if (auto existing = find(name)) return {ErrorCode::kNone, existing};
  if (storage::topic_name_error(name)) return {ErrorCode::kInvalidTopicException, std::nullopt};
  if (!allow_auto_create) return {ErrorCode::kUnknownTopicOrPartition, std::nullopt};
  const auto result = create_topic(name, config_.num_partitions, {}, nullptr);
  if (!result.ok() && result.error != ErrorCode::kTopicAlreadyExists) {
    spdlog::warn("auto-creating topic {} failed: {}", name, result.message);
    return {result.error, std::nullopt};
  }
  return {ErrorCode::kNone, find(name)};
}

AdminResult TopicRegistry::validate_overrides(const ConfigMap& overrides) const {
  for (const auto& [key, value] : overrides) {
    if (auto error = validate_topic_config(key, value)) return {ErrorCode::kInvalidConfig, *error};
  }
  return {};
}

AdminResult TopicRegistry::validate_new_topic(const std::string& name, int32_t partitions, int16_t replication_factor,
                                              const ConfigMap& configs) const {
  if (auto error = storage::topic_name_error(name)) return {ErrorCode::kInvalidTopicException, *error};
  if (find(name)) return {ErrorCode::kTopicAlreadyExists, fmt::format("Topic '{}' already exists.", name)};
  for (const auto& existing : all()) {
    if (storage::topic_names_collide(existing.name, name)) {
      return {ErrorCode::kInvalidTopicException,
              fmt::format("Topic '{}' collides with existing topic: {}", name, existing.name)};
    }
  }
  if (partitions < 1) return {ErrorCode::kInvalidPartitions, "Number of partitions must be larger than 0."};
  if (partitions > kMaxPartitionsPerTopic) {
    return {ErrorCode::kInvalidPartitions,
            fmt::format("Number of partitions {} exceeds the limit of {} per topic.", partitions,
                        kMaxPartitionsPerTopic)};
  }
  if (replication_factor < 1) return {ErrorCode::kInvalidReplicationFactor, "Replication factor must be larger than 0."};
  if (replication_factor > 1) {
    return {ErrorCode::kInvalidReplicationFactor,
            fmt::format("Replication factor: {} larger than available brokers: 1.", replication_factor)};
  }
  return validate_overrides(configs);
}

storage::LogConfig TopicRegistry::log_config(const ConfigMap& overrides) const {
  storage::LogConfig c;
  const auto& r = resolver_;
  c.segment_bytes = r.int_value(overrides, "segment.bytes");
  c.segment_ms = r.int_value(overrides, "segment.ms");
  c.index_interval_bytes = static_cast<int32_t>(r.int_value(overrides, "index.interval.bytes"));
  c.segment_index_bytes = static_cast<int32_t>(r.int_value(overrides, "segment.index.bytes"));
  c.max_message_bytes = static_cast<int32_t>(r.int_value(overrides, "max.message.bytes"));
  c.log_append_time = r.value(overrides, "message.timestamp.type") == "LogAppendTime";
  c.retention_ms = r.int_value(overrides, "retention.ms");
  c.retention_bytes = r.int_value(overrides, "retention.bytes");
  c.file_delete_delay_ms = r.int_value(overrides, "file.delete.delay.ms");
  const auto policy = r.value(overrides, "cleanup.policy");
  c.cleanup_delete = policy.find("delete") != std::string::npos;
  c.cleanup_compact = policy.find("compact") != std::string::npos;
  c.delete_retention_ms = r.int_value(overrides, "delete.retention.ms");
  c.min_compaction_lag_ms = r.int_value(overrides, "min.compaction.lag.ms");
  c.max_compaction_lag_ms = r.int_value(overrides, "max.compaction.lag.ms");
  c.min_cleanable_dirty_ratio = r.double_value(overrides, "min.cleanable.dirty.ratio");
  return c;
}

AdminResult TopicRegistry::create_topic(const std::string& name, int32_t partitions, const ConfigMap& configs,
                                        Uuid* id_out) {
  if (auto result = validate_new_topic(name, partitions, 1, configs); !result.ok()) return result;
  // Configs first: a crash between the two leaves an unused entry, never a topic
  // running with the wrong settings.
  if (!configs.empty()) {
    if (const auto ec = config_store_.set(name, configs)) {
      return {ErrorCode::kKafkaStorageError, "cannot persist topic configs: " + ec.message()};
    }
  }
  const Uuid id = Uuid::random();
  const ErrorCode error = logs_.create_topic(name, partitions, id, log_config(configs));
  if (error != ErrorCode::kNone) {
    return {error, fmt::format("cannot create topic '{}': {}", name, error_name(error))};
  }
  if (id_out) *id_out = id;
  return {};
}

AdminResult TopicRegistry::delete_topic(const std::string& name) {
  if (!find(name)) return {ErrorCode::kUnknownTopicOrPartition, "This server does not host this topic."};
  const ErrorCode error = logs_.delete_topic(name);
  if (error != ErrorCode::kNone) return {error, fmt::format("cannot delete topic '{}'", name)};
  if (const auto ec = config_store_.erase(name)) spdlog::warn("topic {} deleted, but its configs remain: {}", name, ec.message());
  return {};
}

AdminResult TopicRegistry::add_partitions(const std::string& name, int32_t new_total, bool validate_only) {
  const auto info = find(name);
  if (!info) return {ErrorCode::kUnknownTopicOrPartition, "This server does not host this topic."};
  if (new_total <= info->partitions) {
    return {ErrorCode::kInvalidPartitions,
            fmt::format("Topic currently has {} partitions, which is higher than the requested {}.", info->partitions,
                        new_total)};
  }
  if (new_total > kMaxPartitionsPerTopic) {
    return {ErrorCode::kInvalidPartitions, fmt::format("Number of partitions exceeds the limit of {} per topic.",
                                                       kMaxPartitionsPerTopic)};
  }
  if (validate_only) return {};
  const ErrorCode error = logs_.add_partitions(name, new_total, log_config(overrides(name)));
  if (error != ErrorCode::kNone) return {error, fmt::format("cannot add partitions to '{}'", name)};
  spdlog::info("topic {} now has {} partitions", name, new_total);
  return {};
}

AdminResult TopicRegistry::set_overrides(const std::string& topic, const ConfigMap& overrides) {
  const auto info = find(topic);
  if (!info) return {ErrorCode::kUnknownTopicOrPartition, "This server does not host this topic."};
  if (auto result = validate_overrides(overrides); !result.ok()) return result;
  if (const auto ec = config_store_.set(topic, overrides)) {
    return {ErrorCode::kKafkaStorageError, "cannot persist topic configs: " + ec.message()};
  }
  const auto log_config = this->log_config(overrides);
  for (int32_t p = 0; p < info->partitions; ++p) {
    if (auto partition_log = log(topic, p)) partition_log->update_config(log_config);
  }
  return {};
}

}  // namespace runnel::server
