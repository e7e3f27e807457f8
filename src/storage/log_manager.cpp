#include "storage/log_manager.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "storage/topic_name.h"

namespace runnel::storage {

LogManager::LogManager(Env& env) : env_(env) {}
LogManager::~LogManager() = default;

std::error_code LogManager::open(const std::vector<std::string>& dirs, const LogConfig& default_config) {
  {
    std::lock_guard lock(mu_);
    dirs_ = dirs;
    default_config_ = default_config;
  }
  std::vector<CommitJournal::Item> journaled;
  if (!dirs.empty()) {
    std::error_code ec = env_.create_dir(dirs.front());
    if (!ec) journal_ = CommitJournal::open(env_, dirs.front(), journaled, ec);
    if (ec) {
      spdlog::error("log dir {}: cannot open {}: {}", dirs.front(), kCommitJournalFile, ec.message());
      return ec;
    }
  }
  for (const auto& dir : dirs) {
    if (auto ec = open_dir(dir, default_config)) {
      spdlog::error("log dir {}: cannot load: {}", dir, ec.message());
      return ec;
    }
  }
  if (journal_) {
    if (auto ec = replay_journal(journaled)) {
      spdlog::error("log dir {}: replaying {} failed: {}", dirs.front(), kCommitJournalFile, ec.message());
      return ec;
    }
  }
  if (!dirs.empty()) {
    if (auto ec = producer_ids_.open(env_, dirs.front())) {
      spdlog::error("log dir {}: cannot load {}: {}", dirs.front(), kProducerIdBlockFile, ec.message());
      return ec;
    }
  }
  return {};
}

namespace {
enum class CheckpointState { kOk, kMissing, kMalformed };

CheckpointEntries read_checkpoint(Env& env, const std::string& path, CheckpointState* state = nullptr) {
  std::string text;
  if (state) *state = CheckpointState::kOk;
  if (!env.exists(path)) {
    if (state) *state = CheckpointState::kMissing;
    return {};
  }
  std::optional<CheckpointEntries> parsed;
  if (!read_whole_file(env, path, text)) parsed = parse_offset_checkpoint(text);
  if (!parsed) {
    spdlog::warn("ignoring malformed checkpoint file {}", path);
    if (state) *state = CheckpointState::kMalformed;
    return {};
  }
  return *parsed;
}

// Files Runnel (or Kafka) keeps at the top of a log dir; anything else there is
// reported once at startup and left alone.
bool known_log_dir_file(const std::string& name) {
  static const std::set<std::string> known = {
      kRecoveryPointCheckpointFile, kLogStartOffsetCheckpointFile, kCleanerOffsetCheckpointFile,
      kCleanShutdownFile, kProducerIdBlockFile, "runnel-topic-configs", "meta.properties",
      kReplicationOffsetCheckpointFile, "bootstrap.checkpoint", "runnel-metadata",
      std::string(kCommitJournalFile) + ".0", std::string(kCommitJournalFile) + ".1"};
  return known.count(name) > 0 || name.ends_with(".tmp");
}
}  // namespace

std::error_code LogManager::open_dir(const std::string& dir, const LogConfig& config) {
  if (auto ec = env_.create_dir(dir)) return ec;
  const std::string marker = dir + "/" + kCleanShutdownFile;
  const bool marker_present = env_.exists(marker);
  CheckpointState recovery_state = CheckpointState::kOk;
  const CheckpointEntries recovery_points =
      read_checkpoint(env_, dir + "/" + kRecoveryPointCheckpointFile, &recovery_state);
  const CheckpointEntries start_offsets = read_checkpoint(env_, dir + "/" + kLogStartOffsetCheckpointFile);
  const CheckpointEntries cleaner_offsets = read_checkpoint(env_, dir + "/" + kCleanerOffsetCheckpointFile);
  const CheckpointEntries high_watermarks = read_checkpoint(env_, dir + "/" + kReplicationOffsetCheckpointFile);
  std::vector<std::string> names;
  if (auto ec = env_.list_dir(dir, names)) return ec;
  const bool has_partitions = std::any_of(names.begin(), names.end(), [&](const std::string& name) {
    return parse_partition_dir_name(name).has_value() && env_.is_dir(dir + "/" + name);
  });
  // The clean-shutdown marker is only trusted together with the recovery-point
  // checkpoint written beside it: without that bookkeeping every segment is scanned.
  bool clean = marker_present;
  if (has_partitions && recovery_state != CheckpointState::kOk) {
    spdlog::warn("log dir {}: {} {}: recovering every segment of every partition", dir,
                 recovery_state == CheckpointState::kMissing ? "missing" : "malformed", kRecoveryPointCheckpointFile);
    clean = false;
  }
  spdlog::info("log dir {}: loading ({} shutdown)", dir, clean ? "clean" : "unclean, recovering");

  for (const auto& name : names) {
    const std::string path = dir + "/" + name;
    if (name.size() > 7 && name.ends_with("-delete") && env_.is_dir(path)) {
      std::lock_guard lock(mu_);
      deleted_dirs_.push_back(path);  // a topic deletion the last run did not finish
      continue;
    }
    auto parsed = parse_partition_dir_name(name);
    if (!parsed || !env_.is_dir(path)) {
      if (!known_log_dir_file(name))
        spdlog::warn("log dir {}: ignoring unexpected {} '{}' (not a partition directory or a Runnel file)", dir,
                     env_.is_dir(path) ? "directory" : "file", name);
      continue;
    }
    const auto& [topic, partition] = *parsed;

    Uuid id;
    std::string text;
    const std::string meta_path = path + "/" + kPartitionMetadataFile;
    std::optional<Uuid> stored;
    if (env_.exists(meta_path) && !read_whole_file(env_, meta_path, text)) stored = parse_partition_metadata(text);
    {
      std::lock_guard lock(mu_);
      auto it = topics_.find(topic);
      if (stored) {
        id = *stored;
        if (it != topics_.end() && it->second.id != id)
          spdlog::error("partition {}: topic id {} differs from {} of other partitions", path, id.to_base64(),
                        it->second.id.to_base64());
      } else {
        id = it != topics_.end() ? it->second.id : Uuid::random();
      }
    }
    if (!stored) {
      spdlog::warn("partition {}: missing or malformed {}, writing topic id {}", path, kPartitionMetadataFile,
                   id.to_base64());
      if (auto ec = write_file_atomically(env_, meta_path, format_partition_metadata(id))) return ec;
    }

    LogOpenOptions options = open_options(path, config, id);
    options.clean_shutdown = clean;
    auto key = std::make_pair(topic, partition);
    if (auto it = recovery_points.find(key); it != recovery_points.end()) options.recovery_point = it->second;
    if (auto it = start_offsets.find(key); it != start_offsets.end()) options.log_start_offset = it->second;
    if (auto it = cleaner_offsets.find(key); it != cleaner_offsets.end()) options.cleaner_checkpoint = it->second;
    if (auto it = high_watermarks.find(key); it != high_watermarks.end()) options.high_watermark = it->second;
    std::error_code ec;
    auto log = Log::open(options, ec);
    if (!log) return ec;

    std::lock_guard lock(mu_);
    if (partitions_.count(key)) {
      spdlog::error("partition {}-{} found in two log dirs; using the first", topic, partition);
      continue;
    }
    register_partition_locked(topic, partition, PartitionEntry{dir, std::move(log), id});
  }
  if (marker_present) {
    // From here on the dir is in use: a crash must lead to recovery.
    if (auto ec = env_.remove(marker)) return ec;
    if (auto ec = env_.sync_dir(dir)) return ec;
  }
  return {};
}

void LogManager::set_hw_follows_flush(bool follows) {
  std::lock_guard lock(mu_);
  hw_follows_flush_ = follows;
}

LogOpenOptions LogManager::open_options(const std::string& path, const LogConfig& config,
                                        const Uuid& topic_id) const {
  LogOpenOptions options;
  options.dir = path;
  options.topic_id = topic_id;
  options.journal = journal_;
  options.config = config;
  options.env = &env_;
  std::lock_guard lock(mu_);
  options.hw_follows_flush = hw_follows_flush_;
  return options;
}

std::vector<HostedPartition> LogManager::partitions() const {
  std::lock_guard lock(mu_);
  std::vector<HostedPartition> out;
  for (const auto& [key, entry] : partitions_) out.push_back({key.first, key.second, entry.topic_id, entry.log_dir});
  return out;
}

std::vector<std::string> LogManager::log_dirs() const {
  std::lock_guard lock(mu_);
  return dirs_;
}

std::string LogManager::log_dir_of(const std::string& topic, int32_t partition) const {
  std::lock_guard lock(mu_);
  auto it = partitions_.find({topic, partition});
  return it == partitions_.end() ? std::string() : it->second.log_dir;
}

std::vector<std::shared_ptr<Log>> LogManager::all_logs() const {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<Log>> logs;
  for (const auto& [key, entry] : partitions_) logs.push_back(entry.log);
  return logs;
}

size_t LogManager::remove_deleted_dirs() {
  std::vector<std::string> dirs;
  {
    std::lock_guard lock(mu_);
    dirs.swap(deleted_dirs_);
  }
  for (const auto& path : dirs) {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
    if (ec) spdlog::warn("removing deleted partition dir {} failed: {}", path, ec.message());
  }
  return dirs.size();
}

std::shared_ptr<Log> LogManager::get(const std::string& topic, int32_t partition) const {
  std::lock_guard lock(mu_);
  auto it = partitions_.find({topic, partition});
  return it == partitions_.end() ? nullptr : it->second.log;
}

std::map<std::string, TopicInfo> LogManager::topics() const {
  std::lock_guard lock(mu_);
  return topics_;
}

std::optional<std::string> LogManager::topic_by_id(const Uuid& id) const {
  std::lock_guard lock(mu_);
  for (const auto& [name, info] : topics_)
    if (info.id == id) return name;
  return std::nullopt;
}

std::error_code LogManager::write_checkpoints() {
  std::lock_guard checkpoint_lock(checkpoint_mu_);
  std::map<std::string, CheckpointEntries> recovery, starts, cleaner, high_watermarks;
  std::vector<std::string> dirs;
  {
    std::lock_guard lock(mu_);
    dirs = dirs_;
    for (const auto& [key, entry] : partitions_) {
      recovery[entry.log_dir][key] = entry.log->synced_offset();  // everything below it is fsynced
      starts[entry.log_dir][key] = entry.log->log_start_offset();
      if (const int64_t c = entry.log->cleaner_checkpoint(); c >= 0) cleaner[entry.log_dir][key] = c;
      high_watermarks[entry.log_dir][key] = entry.log->high_watermark();
    }
  }
  std::error_code first;
  for (const auto& dir : dirs) {
    auto ec = write_file_atomically(env_, dir + "/" + kRecoveryPointCheckpointFile, format_offset_checkpoint(recovery[dir]));
    if (!ec) ec = write_file_atomically(env_, dir + "/" + kLogStartOffsetCheckpointFile, format_offset_checkpoint(starts[dir]));
    if (!ec) ec = write_file_atomically(env_, dir + "/" + kCleanerOffsetCheckpointFile, format_offset_checkpoint(cleaner[dir]));
    if (!ec)
      ec = write_file_atomically(env_, dir + "/" + kReplicationOffsetCheckpointFile,
                                 format_offset_checkpoint(high_watermarks[dir]));
    if (ec) {
      spdlog::error("log dir {}: writing checkpoints failed: {}", dir, ec.message());
      if (!first) first = ec;
    }
  }
  return first;
}

std::error_code LogManager::shutdown() {
  std::vector<std::pair<std::string, std::shared_ptr<Log>>> logs;
  std::vector<std::string> dirs;
  {
    std::lock_guard lock(mu_);
    if (shut_down_) return {};
    shut_down_ = true;
    dirs = dirs_;
    for (const auto& [key, entry] : partitions_) logs.emplace_back(entry.log_dir, entry.log);
  }
  std::set<std::string> unclean;
  for (auto& [dir, log] : logs) {
    log->close();
    if (log->failed()) unclean.insert(dir);
  }
  std::error_code first = write_checkpoints();
  for (const auto& dir : dirs) {
    if (unclean.count(dir) || first) continue;  // a dir with a failed log must be recovered next time
    if (auto ec = write_file_atomically(env_, dir + "/" + kCleanShutdownFile, "")) {
      spdlog::error("log dir {}: writing clean-shutdown marker failed: {}", dir, ec.message());
      if (!first) first = ec;
    }
  }
  spdlog::info("log manager shut down ({} partitions)", logs.size());
  return first;
}

}  // namespace runnel::storage
