#include "server/topic_registry.h"

#include <spdlog/spdlog.h>

#include "storage/topic_name.h"

namespace runnel::server {

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
  const ErrorCode error = logs_.create_topic(name, config_.num_partitions, Uuid::random());
  if (error != ErrorCode::kNone && error != ErrorCode::kTopicAlreadyExists) {
    spdlog::warn("auto-creating topic {} failed: {}", name, error_name(error));
    return {error, std::nullopt};
  }
  spdlog::info("created topic {} with {} partitions", name, config_.num_partitions);
  return {ErrorCode::kNone, find(name)};
}

}  // namespace runnel::server
