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
//   - unknown producer (never seen, or its state expired)  -> any sequence is accepted
//     (KIP-360: UNKNOWN_PRODUCER_ID is no longer returned)
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/error_code.h"
#include "storage/record_batch.h"

namespace runnel::storage {

inline constexpr size_t kProducerBatchesToRetain = 5;

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
  // producer.id.expiration.ms, measured on the batches' maxTimestamp).
  size_t remove_expired(int64_t now_ms, int64_t expiration_ms);
  void clear() { producers_.clear(); }

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
  std::unordered_map<int64_t, ProducerEntry> producers_;
};

// "%020lld.snapshot" <-> offset.
std::string snapshot_file_name(int64_t offset);
std::optional<int64_t> parse_snapshot_file_name(const std::string& name);

}  // namespace runnel::storage
