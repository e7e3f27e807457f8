// LogManager: creating and removing partition logs, one at a time (replication:
// a broker hosts whichever partitions are assigned to it) or a whole topic at a
// time (the single-node admin API), both on the same per-partition steps.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "storage/log_manager.h"
#include "storage/topic_name.h"

namespace runnel::storage {

void LogManager::register_partition_locked(const std::string& topic, int32_t partition, PartitionEntry entry) {
  auto& info = topics_[topic];
  if (info.partitions == 0) info.id = entry.topic_id;
  info.partitions = std::max(info.partitions, partition + 1);
  partitions_[{topic, partition}] = std::move(entry);
}

void LogManager::unregister_partition_locked(const std::string& topic, int32_t partition) {
  partitions_.erase({topic, partition});
  // The topic's entry follows what is still hosted: its highest partition + 1, or gone.
  auto last = partitions_.lower_bound({topic, INT32_MAX});
  if (last != partitions_.begin() && std::prev(last)->first.first == topic) {
    topics_[topic].partitions = std::prev(last)->first.second + 1;
  } else {
    topics_.erase(topic);
  }
}

ErrorCode LogManager::check_new_topic_name_locked(const std::string& name) const {
  for (const auto& [other, info] : topics_)
    if (other != name && topic_names_collide(name, other)) return ErrorCode::kInvalidTopicException;
  for (const auto& [other, n] : creating_)
    if (other != name && topic_names_collide(name, other)) return ErrorCode::kInvalidTopicException;
  return ErrorCode::kNone;
}

std::vector<std::string> LogManager::pick_dirs_locked(int32_t count) const {
  std::map<std::string, size_t> counts;
  for (const auto& d : dirs_) counts[d] = 0;
  for (const auto& [key, entry] : partitions_) ++counts[entry.log_dir];
  std::vector<std::string> targets;
  for (int32_t p = 0; p < count; ++p) {
    std::string best = dirs_.front();
    for (const auto& d : dirs_)
      if (counts[d] < counts[best]) best = d;
    ++counts[best];
    targets.push_back(best);
  }
  return targets;
}

ErrorCode LogManager::open_new_partition(const std::string& log_dir, const std::string& topic, int32_t partition,
                                         const Uuid& id, const LogConfig& config, std::shared_ptr<Log>& out) {
  const std::string path = log_dir + "/" + topic + "-" + std::to_string(partition);
  const std::string meta_path = path + "/" + kPartitionMetadataFile;
  // A dir left on disk (not loaded at open) is adopted only under the same topic id.
  std::string text;
  if (env_.exists(meta_path) && !read_whole_file(env_, meta_path, text)) {
    if (auto stored = parse_partition_metadata(text); stored && *stored != id) {
      spdlog::error("partition {}: exists on disk with topic id {}, not {}", path, stored->to_base64(), id.to_base64());
      return ErrorCode::kInconsistentTopicId;
    }
  }
  std::error_code ec = env_.create_dir(path);
  if (!ec) ec = write_file_atomically(env_, meta_path, format_partition_metadata(id));
  if (!ec) out = Log::open(open_options(path, config, id), ec);
  if (ec || !out) {
    spdlog::error("partition {}: creating its log failed: {}", path, ec.message());
    return ErrorCode::kKafkaStorageError;
  }
  return ErrorCode::kNone;
}

void LogManager::fsync_parents(const std::set<std::string>& parents, const std::string& what) {
  for (const auto& parent : parents)
    if (auto ec = env_.sync_dir(parent)) spdlog::warn("{}: fsync of {} failed: {}", what, parent, ec.message());
}

std::pair<ErrorCode, std::shared_ptr<Log>> LogManager::create_log(const std::string& topic, int32_t partition,
                                                                  const Uuid& topic_id, const LogConfig& config) {
  if (auto reason = topic_name_error(topic)) {
    spdlog::info("create log '{}-{}' rejected: {}", topic, partition, *reason);
    return {ErrorCode::kInvalidTopicException, nullptr};
  }
  if (partition < 0) return {ErrorCode::kInvalidPartitions, nullptr};
  if (topic_id.is_zero()) return {ErrorCode::kUnknownTopicId, nullptr};
  const auto key = std::make_pair(topic, partition);
  std::string target;
  {
    std::lock_guard lock(mu_);
    if (dirs_.empty() || shut_down_) return {ErrorCode::kKafkaStorageError, nullptr};
    if (auto it = partitions_.find(key); it != partitions_.end()) {
      if (it->second.topic_id == topic_id) return {ErrorCode::kNone, it->second.log};
      spdlog::error("create log {}-{}: hosted under topic id {}, not {}", topic, partition,
                    it->second.topic_id.to_base64(), topic_id.to_base64());
      return {ErrorCode::kInconsistentTopicId, nullptr};
    }
    if (auto it = topics_.find(topic); it != topics_.end() && it->second.id != topic_id) {
      spdlog::error("create log {}-{}: topic {} is hosted under id {}, not {}", topic, partition, topic,
                    it->second.id.to_base64(), topic_id.to_base64());
      return {ErrorCode::kInconsistentTopicId, nullptr};
    }
    if (creating_.count(topic) || creating_partitions_.count(key)) return {ErrorCode::kOperationNotAttempted, nullptr};
    if (const ErrorCode e = check_new_topic_name_locked(topic); e != ErrorCode::kNone) return {e, nullptr};
    creating_partitions_.insert(key);
    target = pick_dirs_locked(1).front();
  }
  // Directory creation and fsyncs happen without the manager lock held.
  std::shared_ptr<Log> log;
  ErrorCode result = open_new_partition(target, topic, partition, topic_id, config, log);
  if (result == ErrorCode::kNone) {
    if (auto ec = env_.sync_dir(target)) {
      spdlog::error("create log {}-{}: fsync of {} failed: {}", topic, partition, target, ec.message());
      result = ErrorCode::kKafkaStorageError;
    }
  }
  std::lock_guard lock(mu_);
  creating_partitions_.erase(key);
  if (result != ErrorCode::kNone) return {result, nullptr};
  register_partition_locked(topic, partition, PartitionEntry{target, log, topic_id});
  spdlog::info("created log {}-{} in {} (topic id {})", topic, partition, target, topic_id.to_base64());
  return {ErrorCode::kNone, log};
}

std::string LogManager::retire_partition_dir(const std::string& topic, int32_t partition,
                                             const PartitionEntry& entry) {
  entry.log->mark_deleted();
  const std::string from = entry.log_dir + "/" + topic + "-" + std::to_string(partition);
  // Unique even when the same partition was removed before and its files are not gone yet.
  std::string to = from + "." + entry.topic_id.to_base64() + "-delete";
  for (int n = 1; env_.exists(to); ++n) to = from + "." + entry.topic_id.to_base64() + "." + std::to_string(n) + "-delete";
  if (auto ec = env_.rename(from, to)) {
    spdlog::error("removing partition {}: renaming to {} failed: {}", from, to, ec.message());
    return {};
  }
  return to;
}

ErrorCode LogManager::remove_log(const std::string& topic, int32_t partition) {
  PartitionEntry entry;
  {
    std::lock_guard lock(mu_);
    auto it = partitions_.find({topic, partition});
    if (it == partitions_.end()) return ErrorCode::kUnknownTopicOrPartition;
    entry = it->second;
    unregister_partition_locked(topic, partition);
  }
  // The same partition may come back here under the same topic id: none of the
  // journal's batches for this one may be replayed into it.
  if (journal_)
    if (auto ec = journal_->forget(nullptr, entry.topic_id, partition_dir_name(entry.log->dir())))
      spdlog::warn("remove log {}-{}: commit journal: {}", topic, partition, ec.message());
  // Renamed first (durably), so a crash never brings the partition back.
  const std::string renamed = retire_partition_dir(topic, partition, entry);
  if (renamed.empty()) return ErrorCode::kKafkaStorageError;
  fsync_parents({entry.log_dir}, "remove log " + topic + "-" + std::to_string(partition));
  std::lock_guard lock(mu_);
  deleted_dirs_.push_back(renamed);  // the files go on the background thread
  spdlog::info("removed log {}-{}", topic, partition);
  return ErrorCode::kNone;
}

// ---- whole topics (the single-node admin API) ----

ErrorCode LogManager::create_topic(const std::string& name, int32_t partitions, const Uuid& id) {
  return create_topic(name, partitions, id, default_config_);
}

ErrorCode LogManager::create_topic(const std::string& name, int32_t partitions, const Uuid& id,
                                   const LogConfig& config) {
  if (auto reason = topic_name_error(name)) {
    spdlog::info("create topic '{}' rejected: {}", name, *reason);
    return ErrorCode::kInvalidTopicException;
  }
  if (partitions < 1) return ErrorCode::kInvalidPartitions;
  std::vector<std::string> targets;
  {
    std::lock_guard lock(mu_);
    if (dirs_.empty() || shut_down_) return ErrorCode::kKafkaStorageError;
    if (topics_.count(name) || creating_.count(name)) return ErrorCode::kTopicAlreadyExists;
    for (const auto& key : creating_partitions_)
      if (key.first == name) return ErrorCode::kTopicAlreadyExists;
    if (const ErrorCode e = check_new_topic_name_locked(name); e != ErrorCode::kNone) return e;
    creating_[name] = partitions;
    targets = pick_dirs_locked(partitions);
  }
  const Uuid topic_id = id.is_zero() ? Uuid::random() : id;
  // Directory creation and fsyncs happen without the manager lock held.
  std::vector<std::shared_ptr<Log>> logs;
  const ErrorCode result = create_partition_logs(name, topic_id, 0, targets, config, logs);

  std::lock_guard lock(mu_);
  creating_.erase(name);
  if (result != ErrorCode::kNone) return result;
  for (int32_t p = 0; p < partitions; ++p)
    register_partition_locked(name, p, PartitionEntry{targets[static_cast<size_t>(p)], logs[static_cast<size_t>(p)], topic_id});
  spdlog::info("created topic {} ({} partitions, id {})", name, partitions, topic_id.to_base64());
  return ErrorCode::kNone;
}

ErrorCode LogManager::create_partition_logs(const std::string& name, const Uuid& id, int32_t first,
                                            const std::vector<std::string>& targets, const LogConfig& config,
                                            std::vector<std::shared_ptr<Log>>& logs) {
  std::set<std::string> parents;
  ErrorCode result = ErrorCode::kNone;
  for (size_t i = 0; i < targets.size(); ++i) {
    std::shared_ptr<Log> log;
    result = open_new_partition(targets[i], name, first + static_cast<int32_t>(i), id, config, log);
    if (result != ErrorCode::kNone) break;
    logs.push_back(std::move(log));
    parents.insert(targets[i]);
  }
  // One fsync per parent dir for all the new partitions.
  for (const auto& parent : parents) {
    if (auto ec = env_.sync_dir(parent)) {
      spdlog::error("topic {}: fsync of {} failed: {}", name, parent, ec.message());
      result = ErrorCode::kKafkaStorageError;
    }
  }
  return result;
}

ErrorCode LogManager::add_partitions(const std::string& name, int32_t total, const LogConfig& config) {
  std::vector<std::string> targets;
  TopicInfo info;
  {
    std::lock_guard lock(mu_);
    if (shut_down_) return ErrorCode::kKafkaStorageError;
    auto it = topics_.find(name);
    if (it == topics_.end() || creating_.count(name)) return ErrorCode::kUnknownTopicOrPartition;
    info = it->second;
    if (total <= info.partitions) return ErrorCode::kInvalidPartitions;
    creating_[name] = total;
    targets = pick_dirs_locked(total - info.partitions);
  }
  std::vector<std::shared_ptr<Log>> logs;
  const ErrorCode result = create_partition_logs(name, info.id, info.partitions, targets, config, logs);
  std::lock_guard lock(mu_);
  creating_.erase(name);
  if (result != ErrorCode::kNone) return result;
  for (size_t i = 0; i < logs.size(); ++i)
    register_partition_locked(name, info.partitions + static_cast<int32_t>(i), PartitionEntry{targets[i], logs[i], info.id});
  return ErrorCode::kNone;
}

ErrorCode LogManager::delete_topic(const std::string& name) {
  std::vector<std::pair<int32_t, PartitionEntry>> doomed;
  {
    std::lock_guard lock(mu_);
    if (!topics_.count(name) || creating_.count(name)) return ErrorCode::kUnknownTopicOrPartition;
    // Every hosted partition, whichever they are.
    for (auto it = partitions_.lower_bound({name, INT32_MIN}); it != partitions_.end() && it->first.first == name; ++it)
      doomed.emplace_back(it->first.second, it->second);
    for (const auto& [partition, entry] : doomed) unregister_partition_locked(name, partition);
    topics_.erase(name);
  }
  // Renamed first (durably), so a crash part-way never brings the topic back.
  std::set<std::string> parents;
  std::vector<std::string> renamed;
  for (const auto& [partition, entry] : doomed) {
    std::string to = retire_partition_dir(name, partition, entry);
    if (to.empty()) continue;
    renamed.push_back(std::move(to));
    parents.insert(entry.log_dir);
  }
  fsync_parents(parents, "delete topic " + name);
  {
    // The files go on the background thread (remove_deleted_dirs), not on the caller's.
    std::lock_guard lock(mu_);
    deleted_dirs_.insert(deleted_dirs_.end(), renamed.begin(), renamed.end());
  }
  spdlog::info("deleted topic {} ({} partitions)", name, doomed.size());
  return ErrorCode::kNone;
}

}  // namespace runnel::storage
