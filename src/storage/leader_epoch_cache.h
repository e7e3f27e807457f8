#pragma once
// Kafka's LeaderEpochFileCache: which leader epoch started at which offset, so
// that a follower of a new leader can find where its log diverges (KIP-101,
// KIP-279) and OffsetForLeaderEpoch can be answered.
//
// Persisted in the partition dir as `leader-epoch-checkpoint`, Kafka's text
// format: "0\n<count>\n<epoch> <start offset>\n...". Mutations change memory
// only and say whether anything changed; persist() rewrites the file
// atomically (tmp, fsync, rename, fsync dir). Log calls persist() after every
// change, outside its own mutex, before the changing call returns (and flush()
// persists before it syncs data), so a change never waits on an fsync while
// readers of the log are blocked.
//
// Thread-safe: an internal mutex guards the entries; persist() calls are
// serialised, each writing the newest state, so the last write wins.
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "storage/env.h"

namespace runnel::storage {

inline constexpr const char* kLeaderEpochCheckpointFile = "leader-epoch-checkpoint";
inline constexpr int32_t kUndefinedEpoch = -1;
inline constexpr int64_t kUndefinedEpochOffset = -1;

struct EpochEntry {
  int32_t epoch = 0;
  int64_t start_offset = 0;
  bool operator==(const EpochEntry&) const = default;
};

// OffsetForLeaderEpoch's answer: {-1, -1} when undefined.
struct EpochEndOffset {
  int32_t epoch = kUndefinedEpoch;
  int64_t end_offset = kUndefinedEpochOffset;
  bool operator==(const EpochEndOffset&) const = default;
};

class LeaderEpochCache {
 public:
  enum class LoadState { kOk, kMissing, kMalformed };

  // Bound to <dir>/leader-epoch-checkpoint; empty until load().
  LeaderEpochCache(Env& env, std::string dir);
  LeaderEpochCache(const LeaderEpochCache&) = delete;
  LeaderEpochCache& operator=(const LeaderEpochCache&) = delete;

  // Replaces the entries with the file's. kMissing also for an empty file (Kafka
  // creates one empty); kMalformed leaves the cache empty.
  LoadState load();

  // Kafka's assign: ignored (false) when (epoch, start) equals the latest entry or
  // continues it (same epoch, start not lower); otherwise entries with epoch >=
  // `epoch` or start >= `start_offset` are removed (a warning when that drops real
  // data) and the entry is added. Negative values are refused with a warning.
  bool assign(int32_t epoch, int64_t start_offset);
  // Drops entries whose start offset >= end_offset (a log truncated to end_offset).
  bool truncate_from_end(int64_t end_offset);
  // Drops entries wholly below start_offset; the last one at or below it moves up
  // to start_offset (an entry starting at start_offset is kept).
  bool truncate_from_start(int64_t start_offset);
  bool clear();

  // Writes the file if anything changed since the last successful write (always
  // when force, e.g. to replace a malformed file).
  std::error_code persist(bool force = false);
  // Deletes the file (a missing file is fine); the next persist() writes it again.
  std::error_code remove_file();

  int32_t latest_epoch() const;  // -1 when empty
  std::optional<EpochEntry> latest_entry() const;
  std::vector<EpochEntry> entries() const;
  bool empty() const;
  // Kafka's endOffsetFor (see the .cpp for each case).
  EpochEndOffset end_offset_for(int32_t requested_epoch, int64_t log_end_offset) const;

  const std::string& path() const { return path_; }

  static std::string format(const std::vector<EpochEntry>& entries);
  // nullopt when not Kafka's format (version 0, count, "<epoch> <offset>" lines).
  static std::optional<std::vector<EpochEntry>> parse(std::string_view text);

 private:
  bool assign_locked(int32_t epoch, int64_t start_offset);

  Env& env_;
  const std::string dir_;
  const std::string path_;
  mutable std::mutex mu_;
  std::vector<EpochEntry> entries_;  // ascending in both epoch and start offset
  uint64_t version_ = 0;             // bumped by every change
  uint64_t persisted_version_ = 0;   // the version the file holds
  std::mutex file_mu_;               // one persist() at a time; never taken under mu_
};

}  // namespace runnel::storage
