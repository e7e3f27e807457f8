// Reading one partition replica straight from a stopped broker's data dir:
// every record of its `.log` segment files (RecordBatch v2, any codec) with the
// leader epoch of its batch, plus the high watermark and log start offset the
// broker checkpointed. Read-only: opens files O_RDONLY and never touches
// indexes or checkpoints, so a broker can be restarted on the dir afterwards.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace runnel::fault {

struct StoredRecord {
  int64_t offset = 0;
  std::string key;    // a null key reads as ""
  std::string value;  // a null value (tombstone) reads as ""
  int32_t leader_epoch = -1;  // partitionLeaderEpoch of the record's batch
  int64_t producer_id = -1;   // the batch's Kafka producer id and epoch (-1: not idempotent)
  int16_t producer_epoch = -1;
};

struct ReplicaLog {
  std::string log_dir;
  std::string topic;
  int32_t partition = -1;
  bool found = false;  // <log_dir>/<topic>-<partition> exists

  // Data records in offset order, from the effective log start on; records of
  // control batches (transaction markers) are left out, so offsets may skip.
  std::vector<StoredRecord> records;

  // From <log_dir>/replication-offset-checkpoint; nullopt if the file or the
  // partition's line is absent (unknown).
  std::optional<int64_t> high_watermark;
  // From <log_dir>/log-start-offset-checkpoint; nullopt if absent.
  std::optional<int64_t> checkpointed_log_start;
  // The larger of the checkpointed log start and the first segment's base offset.
  int64_t log_start_offset = 0;
  // One past the last batch read (or the last segment's base offset if empty).
  int64_t log_end_offset = 0;

  // Bytes of an incomplete last batch at the end of the last segment (a write
  // torn by kill -9; the broker truncates it on restart). Not an error.
  int64_t torn_tail_bytes = 0;
  // Anything that could not be read: a bad CRC, an undecodable batch, a
  // partial batch that is not at the end, offsets going backwards, a
  // malformed checkpoint. Reading a segment stops at its first bad batch.
  std::vector<std::string> problems;

  std::string Name() const;  // "<log_dir>/<topic>-<partition>"
};

ReplicaLog ReadReplica(const std::string& log_dir, const std::string& topic, int32_t partition);

}  // namespace runnel::fault
