#pragma once
// Idempotent-producer state of one partition (Kafka's ProducerStateManager and
// ProducerAppendInfo): per producer id its epoch and the sequence ranges and
// offsets of its last 5 batches. Not thread-safe: Log guards it with its mutex,
// so that checking a batch and appending it are one atomic step.
//
// Rules (Kafka 3.x, ProducerAppendInfo.checkSequence/checkProducerEpoch):
//   - a batch whose (epoch, first seq, last seq) matches one of the producer's last
//     5 batches is a duplicate: nothing is written, the original offsets are returned
//   - epoch lower than the producer's   -> INVALID_PRODUCER_EPOCH
//   - epoch higher (a bumped producer)  -> sequence must be 0, else OUT_OF_ORDER_SEQUENCE_NUMBER
//   - same epoch                        -> sequence must be last + 1 (INT32_MAX wraps to 0),
//                                          else OUT_OF_ORDER_SEQUENCE_NUMBER
//   - unknown producer at sequence 0                -> accepted, a new producer
//   - unknown producer past sequence 0, whose state this log forgot (expired)
//                                                   -> UNKNOWN_PRODUCER_ID: its earlier batches
//                                                      were acknowledged long ago, and the client
//                                                      resets its sequence (Kafka before 2.5)
//   - unknown producer past sequence 0, never seen  -> OUT_OF_ORDER_SEQUENCE_NUMBER: its earlier
//                                                      batches are unacknowledged (refused, or taken
//                                                      by a leader that lost them), and the client
//                                                      drains, bumps its epoch and resends them.
//     Kafka 2.5+ accepts any sequence here (KIP-360); that lets librdkafka take the
//     ack as proof its earlier batches were written, and loses them (tests/fault/README.md).
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/error_code.h"
#include "storage/record_batch.h"

namespace runnel::storage {

inline constexpr size_t kProducerBatchesToRetain = 5;
// Expired producer ids remembered per log, newest kept; one forgotten beyond this
// that comes back past sequence 0 gets OUT_OF_ORDER (fatal to librdkafka) instead
// of UNKNOWN_PRODUCER_ID (a reset).
inline constexpr size_t kForgottenProducersToRemember = 4096;

struct ProducerBatch {
  int32_t first_seq = -1;
  int32_t last_seq = -1;
  int64_t first_offset = -1;
  int64_t last_offset = -1;
  int64_t timestamp = -1;  // the batch's maxTimestamp
};

struct ProducerEntry {
  int16_t epoch = -1;
  std::deque<ProducerBatch> batches;  // oldest first, at most kProducerBatchesToRetain
  int64_t last_timestamp = -1;

  void add(int16_t batch_epoch, const ProducerBatch& batch);
};

// The producer fields of one batch about to be appended.
struct ProducerBatchInfo {
  int64_t producer_id = -1;
  int16_t epoch = -1;
  int32_t first_seq = -1;
  int32_t last_seq = -1;
  int32_t offset_delta = 0;  // lastOffsetDelta
  int64_t max_timestamp = -1;
  static ProducerBatchInfo from(const BatchHeader& h);
};

class ProducerStateManager {
 public:
  struct CheckResult {
    ErrorCode error = ErrorCode::kNone;
    std::optional<ProducerBatch> duplicate;  // set: the whole append is a retry of this batch
  };
  // Checks the batches of one append, in order, as if each earlier one had been
  // appended. Batches without a producer id are skipped.
  CheckResult check(std::span<const ProducerBatchInfo> batches) const;
  // Records the batches once written; first_offsets[i] is batch i's base offset.
  void commit(std::span<const ProducerBatchInfo> batches, std::span<const int64_t> first_offsets);
  // Rebuilding from the log at recovery: no checks, as Kafka's replication origin.
  void replay(const BatchHeader& h);

  // Forgets producers whose last batch is older than expiration_ms (Kafka's
  // producer.id.expiration.ms, measured on the batches' maxTimestamp), and
  // remembers that it did.
  size_t remove_expired(int64_t now_ms, int64_t expiration_ms);
  // Drops the live state (recovery rebuilds it); expired ids stay remembered.
  void clear() { producers_.clear(); }
  bool forgot(int64_t producer_id) const { return forgotten_.contains(producer_id); }
  // The expired ids, oldest first: version i16 | crc u32 (CRC32C of what follows) |
  // count i32 | ids i64. A log keeps them in their own file across restarts.
  std::string serialize_forgotten() const;
  bool parse_forgotten(std::string_view bytes);

  // Last offset of each producer's last batch: the cleaner keeps those batches.
  std::unordered_map<int64_t, int64_t> last_offsets() const;
  const ProducerEntry* find(int64_t producer_id) const;
  size_t size() const { return producers_.size(); }

  // Kafka's producer snapshot format (version 1, CRC32C). Every retained batch is
  // one entry (oldest first), so Kafka reading the file keeps the newest batch.
  std::string serialize() const;
  // Replaces the state; false if the bytes are not a valid snapshot.
  bool parse(std::string_view bytes);

 private:
  void remember_forgotten(int64_t producer_id);

  std::unordered_map<int64_t, ProducerEntry> producers_;
  std::deque<int64_t> forgotten_order_;  // oldest first, at most kForgottenProducersToRemember
  std::unordered_set<int64_t> forgotten_;
};

// A log's expired producer ids (ProducerStateManager::serialize_forgotten).
inline constexpr const char* kForgottenProducersFile = "forgotten-producer-ids";

// "%020lld.snapshot" <-> offset.
std::string snapshot_file_name(int64_t offset);
std::optional<int64_t> parse_snapshot_file_name(const std::string& name);

}  // namespace runnel::storage
