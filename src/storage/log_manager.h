#pragma once
// Owns every partition log under one or more log.dirs: discovery and recovery at
// open, creation and removal of partition logs (one at a time for replication, a
// topic at a time for the single-node admin API), checkpoints and the
// clean-shutdown marker. A broker may host any subset of a topic's partitions.
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "common/error_code.h"
#include "common/uuid.h"
#include "storage/commit_journal.h"
#include "storage/env.h"
#include "storage/log.h"
#include "storage/producer_id_manager.h"

namespace runnel::storage {

inline constexpr const char* kRecoveryPointCheckpointFile = "recovery-point-offset-checkpoint";
inline constexpr const char* kLogStartOffsetCheckpointFile = "log-start-offset-checkpoint";
inline constexpr const char* kCleanerOffsetCheckpointFile = "cleaner-offset-checkpoint";
inline constexpr const char* kReplicationOffsetCheckpointFile = "replication-offset-checkpoint";
inline constexpr const char* kCleanShutdownFile = ".kafka_cleanshutdown";
inline constexpr const char* kPartitionMetadataFile = "partition.metadata";

struct TopicInfo {
  Uuid id;
  // The highest hosted partition + 1. With sparse hosting (e.g. partitions 1 and 4
  // only) some below it are absent here: partitions() lists the hosted ones.
  int32_t partitions = 0;
};

struct HostedPartition {
  std::string topic;
  int32_t partition = 0;
  Uuid topic_id;
  std::string log_dir;
  bool operator==(const HostedPartition&) const = default;
};

class LogManager {
 public:
  explicit LogManager(Env& env = Env::posix());
  ~LogManager();
  LogManager(const LogManager&) = delete;
  LogManager& operator=(const LogManager&) = delete;

  // Scans dirs (created if missing), opens and recovers every <topic>-<partition> dir,
  // then appends back from the commit journal (in the first dir) the batches a log
  // lacks, fsyncs those logs and starts the journal over.
  std::error_code open(const std::vector<std::string>& dirs, const LogConfig& default_config);
  // The commit journal every log of this manager uses (for the Flusher); null
  // before open().
  std::shared_ptr<CommitJournal> journal() const { return journal_; }
  // LogOpenOptions::hw_follows_flush for every log opened or created afterwards (so
  // call it before open()). Default true: the HW is the durable offset (a single
  // node); false: replication::Partition owns it, starting from the
  // replication-offset-checkpoint.
  void set_hw_follows_flush(bool follows);

  // ---- one partition at a time (replication) ----
  // Creates <topic>-<partition> with its partition.metadata in the least-loaded log
  // dir, fsyncs, opens the log. An existing log with the same topic id is returned
  // as is. Errors: kInvalidTopicException (bad or colliding name), kInvalidPartitions
  // (< 0), kUnknownTopicId (zero id), kInconsistentTopicId (the partition or the
  // topic's other partitions exist under another id), kOperationNotAttempted (the
  // same partition or topic is being created concurrently), kKafkaStorageError (I/O).
  std::pair<ErrorCode, std::shared_ptr<Log>> create_log(const std::string& topic, int32_t partition,
                                                        const Uuid& topic_id, const LogConfig& config);
  // The log stops taking appends (readers holding it keep working), its dir is
  // renamed `<topic>-<partition>.<topic id>-delete` and the parent fsynced; the
  // files go on the background thread (remove_deleted_dirs). kUnknownTopicOrPartition
  // when not hosted here.
  ErrorCode remove_log(const std::string& topic, int32_t partition);
  // Every hosted partition, ordered by (topic, partition).
  std::vector<HostedPartition> partitions() const;

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

  // Writes recovery-point (each log's durable offset), log-start-offset,
  // cleaner-offset and replication-offset (each log's high watermark) checkpoints,
  // atomically, in every dir. Serialised: the background thread and handlers call it.
  std::error_code write_checkpoints();
  // Closes every log, writes checkpoints and the clean-shutdown marker. Idempotent.
  std::error_code shutdown();

 private:
  struct PartitionEntry {
    std::string log_dir;  // which log.dir holds it
    std::shared_ptr<Log> log;
    Uuid topic_id;
  };
  std::error_code open_dir(const std::string& dir, const LogConfig& config);
  LogOpenOptions open_options(const std::string& path, const LogConfig& config, const Uuid& topic_id) const;
  // Appends the journal's batches that logs lack (log_manager_journal.cpp).
  std::error_code replay_journal(const std::vector<CommitJournal::Item>& items);
  // Least-loaded log dir for each of `count` new partitions.
  std::vector<std::string> pick_dirs_locked(int32_t count) const;
  // Why `name` cannot be created now (a colliding or reserved name), kNone if it can.
  ErrorCode check_new_topic_name_locked(const std::string& name) const;
  // Creates (or adopts, with the same id) one partition dir with its partition.metadata
  // and opens its log. The parent dir is not fsynced: callers do it once for many.
  ErrorCode open_new_partition(const std::string& log_dir, const std::string& topic, int32_t partition,
                               const Uuid& id, const LogConfig& config, std::shared_ptr<Log>& out);
  // Creates partition dirs first..first+targets.size()-1, opens their logs, fsyncs the parents.
  ErrorCode create_partition_logs(const std::string& name, const Uuid& id, int32_t first,
                                  const std::vector<std::string>& targets, const LogConfig& config,
                                  std::vector<std::shared_ptr<Log>>& logs);
  void register_partition_locked(const std::string& topic, int32_t partition, PartitionEntry entry);
  void unregister_partition_locked(const std::string& topic, int32_t partition);
  // Marks the log deleted and renames its dir to a `-delete` name; returns that name,
  // "" on failure. The parent dir is not fsynced.
  std::string retire_partition_dir(const std::string& topic, int32_t partition, const PartitionEntry& entry);
  void fsync_parents(const std::set<std::string>& parents, const std::string& what);

  Env& env_;
  LogConfig default_config_;
  std::vector<std::string> dirs_;
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int32_t>, PartitionEntry> partitions_;
  std::map<std::string, TopicInfo> topics_;
  std::map<std::string, int32_t> creating_;  // names reserved while create_topic does I/O unlocked
  std::set<std::pair<std::string, int32_t>> creating_partitions_;  // reserved by create_log
  bool hw_follows_flush_ = true;
  bool shut_down_ = false;
  std::vector<std::string> deleted_dirs_;  // `-delete` dirs still on disk, guarded by mu_
  std::mutex checkpoint_mu_;               // one checkpoint writer at a time (shared .tmp names)
  ProducerIdManager producer_ids_;
  std::shared_ptr<CommitJournal> journal_;
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
