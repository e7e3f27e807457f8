#pragma once
// Owns every partition log under one or more log.dirs: discovery and recovery at
// open, topic creation, checkpoints and the clean-shutdown marker.
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "common/error_code.h"
#include "common/uuid.h"
#include "storage/env.h"
#include "storage/log.h"
#include "storage/producer_id_manager.h"

namespace runnel::storage {

inline constexpr const char* kRecoveryPointCheckpointFile = "recovery-point-offset-checkpoint";
inline constexpr const char* kLogStartOffsetCheckpointFile = "log-start-offset-checkpoint";
inline constexpr const char* kCleanerOffsetCheckpointFile = "cleaner-offset-checkpoint";
inline constexpr const char* kCleanShutdownFile = ".kafka_cleanshutdown";
inline constexpr const char* kPartitionMetadataFile = "partition.metadata";

struct TopicInfo {
  Uuid id;
  int32_t partitions = 0;
};

class LogManager {
 public:
  explicit LogManager(Env& env = Env::posix());
  ~LogManager();
  LogManager(const LogManager&) = delete;
  LogManager& operator=(const LogManager&) = delete;

  // Scans dirs (created if missing), opens and recovers every <topic>-<partition> dir.
  std::error_code open(const std::vector<std::string>& dirs, const LogConfig& default_config);

  // kInvalidTopicException (bad or colliding name), kInvalidPartitions (< 1),
  // kTopicAlreadyExists, kKafkaStorageError (I/O).
  ErrorCode create_topic(const std::string& name, int32_t partitions, const Uuid& id);
  ErrorCode create_topic(const std::string& name, int32_t partitions, const Uuid& id, const LogConfig& config);

  // Grows a topic to `total` partitions (same topic id). kInvalidPartitions if not larger.
  ErrorCode add_partitions(const std::string& name, int32_t total, const LogConfig& config);
  // Removes a topic: its logs stop taking appends and its dirs are renamed
  // `<topic>-<p>.<id>-delete` (fsynced), then removed from disk.
  ErrorCode delete_topic(const std::string& name);

  // Producer ids for InitProducerId, persisted in the first log dir.
  ProducerIdManager& producer_ids() { return producer_ids_; }

  std::shared_ptr<Log> get(const std::string& topic, int32_t partition) const;
  std::vector<std::shared_ptr<Log>> all_logs() const;
  // Removes the dirs of deleted topics (renamed `-delete`, also those found at
  // startup). Called by the background maintenance thread; returns how many.
  size_t remove_deleted_dirs();
  std::vector<std::string> log_dirs() const;
  // The log dir holding a partition, "" if unknown.
  std::string log_dir_of(const std::string& topic, int32_t partition) const;
  std::map<std::string, TopicInfo> topics() const;
  std::optional<std::string> topic_by_id(const Uuid& id) const;

  // Writes recovery-point, log-start-offset and cleaner-offset checkpoints
  // (atomically) in every dir. Serialised: the background thread and handlers call it.
  std::error_code write_checkpoints();
  // Closes every log, writes checkpoints and the clean-shutdown marker. Idempotent.
  std::error_code shutdown();

 private:
  struct PartitionEntry {
    std::string log_dir;  // which log.dir holds it
    std::shared_ptr<Log> log;
  };
  std::error_code open_dir(const std::string& dir, const LogConfig& config);
  // Least-loaded log dir for each of `count` new partitions.
  std::vector<std::string> pick_dirs_locked(int32_t count) const;
  // Creates partition dirs first..first+targets.size()-1 and opens their logs.
  ErrorCode create_partition_logs(const std::string& name, const Uuid& id, int32_t first,
                                  const std::vector<std::string>& targets, const LogConfig& config,
                                  std::vector<std::shared_ptr<Log>>& logs);

  Env& env_;
  LogConfig default_config_;
  std::vector<std::string> dirs_;
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int32_t>, PartitionEntry> partitions_;
  std::map<std::string, TopicInfo> topics_;
  std::map<std::string, int32_t> creating_;  // names reserved while create_topic does I/O unlocked
  bool shut_down_ = false;
  std::vector<std::string> deleted_dirs_;  // `-delete` dirs still on disk, guarded by mu_
  std::mutex checkpoint_mu_;               // one checkpoint writer at a time (shared .tmp names)
  ProducerIdManager producer_ids_;
};

// Kafka's offset checkpoint text format: "0\n<count>\n<topic> <partition> <offset>\n"...
using CheckpointEntries = std::map<std::pair<std::string, int32_t>, int64_t>;
std::string format_offset_checkpoint(const CheckpointEntries& entries);
std::optional<CheckpointEntries> parse_offset_checkpoint(const std::string& text);

// partition.metadata: "version: 0\ntopic_id: <base64>\n".
std::string format_partition_metadata(const Uuid& id);
std::optional<Uuid> parse_partition_metadata(const std::string& text);

// "<topic>-<partition>" -> (topic, partition), nullopt for anything else (e.g. "-delete" dirs).
std::optional<std::pair<std::string, int32_t>> parse_partition_dir_name(const std::string& name);

}  // namespace runnel::storage
