// The end-of-test check of a fault test: every write a producer got
// acknowledged and every record a consumer saw, against what each broker's data
// dir holds once the brokers stopped (replica_log.h).
//
// Per partition, the reference replica R is the one with the highest
// checkpointed high watermark (ties: the longer log, then the lower broker id)
// and HW is that high watermark. If no replica of the partition has a known HW,
// R is the longest log and HW its log end (said in the notes). Anomalies:
//   lost        an acknowledged write at offset < HW that R does not hold at
//               that offset with the same key and value
//   duplicated  one (producer, key, sequence) (record_value.h) stored at two
//               offsets of R below HW
//   reordered   along R's offsets below HW, a (producer, key)'s sequence lower
//               than one stored before it
//   diverged    a replica X whose records differ from R's (offset, key, value)
//               somewhere in [max(log starts), min(HW, X's HW)); counted once
//               per replica. Replicas with unknown HW are not compared (noted).
//   vanished    a consumed record at offset < HW that R does not hold at that
//               offset with the same key and value
//   unreadable  ReplicaLog::problems (bad CRC, undecodable batch, ...) of any replica
// Not anomalies, counted as `unconfirmed`: acknowledged or consumed records at
// or above HW that R does not hold (the HW checkpoint lags after kill -9; stop
// brokers gracefully before reading to make it current) or below R's log start.
// Records whose value is not in the record_value.h format are checked for
// lost/vanished/diverged, not for duplicates or order. Not meant for compacted
// topics (compaction runs independently on each replica).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "record_value.h"
#include "replica_log.h"

namespace runnel::fault {

struct WriteRecord {
  std::string topic;
  int32_t partition = -1;
  int64_t offset = -1;
  std::string key;
  std::string value;
};

// Collects what clients observed during the test. Thread-safe.
class AckedWrites {
 public:
  // A write the producer got acknowledged, with the offset from the ack.
  void Add(WriteRecord record);
  // A record a consumer received, with its partition and offset.
  void AddConsumed(WriteRecord record);

  std::vector<WriteRecord> Acked() const;
  std::vector<WriteRecord> Consumed() const;
  size_t AckedCount() const;
  size_t ConsumedCount() const;

 private:
  mutable std::mutex mu_;
  std::vector<WriteRecord> acked_;
  std::vector<WriteRecord> consumed_;
};

struct Anomalies {
  size_t count = 0;
  std::vector<std::string> examples;  // the first kMaxExamples
  void Add(std::string example);
};

struct ConsistencyReport {
  static constexpr size_t kMaxExamples = 5;

  Anomalies lost, duplicated, reordered, diverged, vanished, unreadable;
  Anomalies unconfirmed;  // informational, not part of ok()
  // Informational, not part of ok(): a record the client sent again under a new
  // producer epoch (librdkafka bumps it after some errors, KIP-360). A new epoch
  // starts a new sequence space, so no broker can recognise the copy (Kafka
  // neither); duplicates under one producer id and epoch are `duplicated`.
  Anomalies resent_after_epoch_bump;
  size_t acked = 0;
  size_t consumed = 0;
  std::vector<std::string> notes;  // reference choices, torn tails, replicas not compared

  bool ok() const;
  // First line: "lost=0 duplicated=0 reordered=0 diverged=0 vanished=0
  // unreadable=0 (acked=12345, consumed=12000, unconfirmed=0)"; then one line
  // per kind with a nonzero count and its examples, then the notes.
  std::string Summary() const;
};

// replicas: broker id -> the ReplicaLogs read from that broker's data dir(s).
ConsistencyReport Check(const AckedWrites& writes, const std::map<int, std::vector<ReplicaLog>>& replicas);

}  // namespace runnel::fault
