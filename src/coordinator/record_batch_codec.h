#pragma once
// The coordinator's own RecordBatch v2 writer and reader for __consumer_offsets.
// The produce path never walks records; the coordinator must, to replay keys and
// values, so it owns this small codec. Only uncompressed batches are written;
// compressed or control batches met during replay are reported, not decoded.
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "storage/record_batch.h"

namespace runnel::coordinator {

using Bytes = std::vector<uint8_t>;

struct LogRecord {
  Bytes key;
  std::optional<Bytes> value;  // nullopt: a tombstone (null value)

  bool operator==(const LogRecord&) const = default;
};

// One uncompressed RecordBatch v2: magic 2, attributes 0, producer id -1, epoch -1,
// sequence -1, every record stamped `timestamp_ms`, base offset 0 (the log assigns
// offsets on append), CRC32C over attributes..end. Precondition: !records.empty().
Bytes build_record_batch(std::span<const LogRecord> records, int64_t timestamp_ms);

struct ParsedBatch {
  enum class Status { kOk, kCompressed, kControl, kCorrupt };
  Status status = Status::kCorrupt;
  storage::BatchHeader header;
  std::vector<LogRecord> records;  // kOk only
};

// Parses one whole batch (exactly its bytes). Never throws; a bad CRC, magic or
// record encoding gives kCorrupt.
ParsedBatch parse_record_batch(std::span<const uint8_t> batch);

// Splits concatenated whole batches (as Log::read returns them) into one span per
// batch. A trailing partial batch is dropped.
std::vector<std::span<const uint8_t>> split_batches(std::span<const uint8_t> bytes);

}  // namespace runnel::coordinator
