#pragma once
// Record-level codec of a RecordBatch v2: the records inside a batch (varint
// lengths, attributes, timestamp/offset deltas, key, value, headers), and
// building whole batches back from records. Used by the log cleaner and by the
// key check on compacted topics; the plain produce path never walks records.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "storage/record_batch.h"

namespace runnel::storage {

// One record, as views into a decoded batch's payload (valid while it lives).
struct RecordView {
  int8_t attributes = 0;
  int64_t timestamp = 0;  // absolute: base timestamp + delta
  int64_t offset = 0;     // absolute: base offset + delta
  std::optional<std::span<const uint8_t>> key;    // nullopt: null key
  std::optional<std::span<const uint8_t>> value;  // nullopt: null value (a tombstone)
  std::span<const uint8_t> headers;               // header count + headers, verbatim
};

struct DecodedBatch {
  BatchHeader header;
  std::vector<uint8_t> payload;  // the records section, decompressed
  std::vector<RecordView> records;
};

// Decodes one whole batch (exactly its bytes): decompresses and parses every
// record. False (with *error) on a malformed batch.
bool decode_batch(std::span<const uint8_t> batch, DecodedBatch& out, std::string* error);

// Builds one whole batch holding `records` (any subset of an original batch's,
// in offset order) with `header`'s base offset, last offset delta, producer
// fields, leader epoch and codec. Record deltas, the record count, maxTimestamp
// (for CreateTime) and the CRC are computed. If delete_horizon_ms >= 0 the batch
// carries it (KIP-534: attribute bit 6, stored as the base timestamp). With no
// records an empty, uncompressed batch is written that keeps the offset range
// and producer state, as Kafka's cleaner does. False if compression failed.
bool encode_batch(const BatchHeader& header, std::span<const RecordView> records, int64_t delete_horizon_ms,
                  std::vector<uint8_t>& out);

// The delete horizon of a batch written by the cleaner, or -1.
inline int64_t delete_horizon_ms(const BatchHeader& h) {
  return (h.attributes & batch_attr::kDeleteHorizon) != 0 ? h.base_timestamp : -1;
}

// Last sequence of a batch, with Kafka's wrap-around at INT32_MAX.
int32_t last_sequence(const BatchHeader& h);

// For compacted topics: index (in the batch) of the first record with a null key,
// or -1. False (with *error) if the batch cannot be decoded.
bool find_record_without_key(std::span<const uint8_t> batch, int32_t& index, std::string* error);

// Kafka's LogValidator sets every appended batch's maxTimestamp from its records.
// Runnel trusts the header on the produce path, except when it cannot be right for
// a CreateTime batch: below the base timestamp (Sarama before 1.24 leaves it at -1,
// which Kafka silently repairs). Then the batch is decoded, maxTimestamp set to
// the largest record timestamp, the CRC recomputed and header updated. Returns
// whether the batch was changed.
bool repair_max_timestamp(std::span<uint8_t> batch, BatchHeader& header);

// Zigzag varint helpers (Kafka's ByteUtils varint/varlong).
void put_varlong(std::vector<uint8_t>& out, int64_t value);
bool get_varlong(std::span<const uint8_t> in, size_t& pos, int64_t& value);

}  // namespace runnel::storage
