#pragma once
// Kafka RecordBatch v2 header: parsing, produce-path validation and in-place patching.
// Only the 61-byte header is interpreted; records are never decompressed or walked.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "common/error_code.h"

namespace runnel::storage {

// Byte positions inside a v2 batch (all big-endian).
namespace batch_layout {
inline constexpr size_t kBaseOffset = 0;            // i64
inline constexpr size_t kBatchLength = 8;           // i32, bytes after this field
inline constexpr size_t kPartitionLeaderEpoch = 12; // i32
inline constexpr size_t kMagic = 16;                // i8
inline constexpr size_t kCrc = 17;                  // u32 over [kAttributes, end)
inline constexpr size_t kAttributes = 21;           // i16
inline constexpr size_t kLastOffsetDelta = 23;      // i32
inline constexpr size_t kBaseTimestamp = 27;        // i64
inline constexpr size_t kMaxTimestamp = 35;         // i64
inline constexpr size_t kProducerId = 43;           // i64
inline constexpr size_t kProducerEpoch = 51;        // i16
inline constexpr size_t kBaseSequence = 53;         // i32
inline constexpr size_t kRecordCount = 57;          // i32
inline constexpr size_t kHeaderSize = 61;
inline constexpr size_t kLogOverhead = 12;          // baseOffset + batchLength
}  // namespace batch_layout

inline constexpr size_t kBatchHeaderSize = batch_layout::kHeaderSize;
inline constexpr int8_t kCurrentMagic = 2;

enum class CompressionType : int8_t { kNone = 0, kGzip = 1, kSnappy = 2, kLz4 = 3, kZstd = 4 };

namespace batch_attr {
inline constexpr int16_t kCompressionMask = 0x07;
inline constexpr int16_t kLogAppendTime = 0x08;
inline constexpr int16_t kTransactional = 0x10;
inline constexpr int16_t kControl = 0x20;
inline constexpr int16_t kDeleteHorizon = 0x40;  // KIP-534: base timestamp holds the delete horizon
}  // namespace batch_attr

struct BatchHeader {
  int64_t base_offset = 0;
  int32_t batch_length = 0;
  int32_t partition_leader_epoch = 0;
  int8_t magic = 0;
  uint32_t crc = 0;
  int16_t attributes = 0;
  int32_t last_offset_delta = 0;
  int64_t base_timestamp = 0;
  int64_t max_timestamp = 0;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
  int32_t record_count = 0;

  int64_t last_offset() const { return base_offset + last_offset_delta; }
  // Whole batch size on disk / on the wire, including baseOffset and batchLength.
  int64_t total_size() const { return int64_t{batch_length} + int64_t{batch_layout::kLogOverhead}; }
  int compression() const { return attributes & batch_attr::kCompressionMask; }
  bool log_append_time() const { return (attributes & batch_attr::kLogAppendTime) != 0; }
  bool transactional() const { return (attributes & batch_attr::kTransactional) != 0; }
  bool control() const { return (attributes & batch_attr::kControl) != 0; }
};

// Parses the fixed header. Precondition: data.size() >= kBatchHeaderSize.
BatchHeader parse_batch_header(std::span<const uint8_t> data);

// CRC32C over [attributes, end) of one whole batch, as stored in the crc field.
uint32_t compute_batch_crc(std::span<const uint8_t> batch);

struct ValidationConfig {
  int32_t max_message_bytes = 1048588;           // per batch, incl. log overhead (Kafka message.max.bytes)
  int64_t max_records_bytes = INT32_MAX;         // whole records set of one append
};

struct BatchLocation {
  size_t position = 0;  // byte offset of the batch inside the validated buffer
  BatchHeader header;
  size_t size() const { return static_cast<size_t>(header.total_size()); }
};

struct ValidationResult {
  ErrorCode error = ErrorCode::kNone;
  int32_t record_count = 0;            // sum of recordCount over all batches
  std::vector<BatchLocation> batches;  // in order; empty on error
};

// Walks one or more concatenated batches (a Produce request's records) and checks
// sizes, magic, CRC, record count vs lastOffsetDelta and codec. Errors:
//   kCorruptMessage              length < header / past the end / trailing partial batch /
//                                bad CRC / unknown magic or codec / empty input
//   kUnsupportedForMessageFormat magic 0 or 1 (old message sets are converted before this,
//                                and only for Produce v0-v2: message_set_conversion.h)
//   kMessageTooLarge             one batch > max_message_bytes
//   kRecordListTooLarge          whole set > max_records_bytes
//   kInvalidRecord               recordCount < 1 or lastOffsetDelta != recordCount - 1
ValidationResult validate_batches(std::span<const uint8_t> data, const ValidationConfig& config);

// In-place patches on one whole batch. Offset and epoch lie outside the CRC.
void set_base_offset(std::span<uint8_t> batch, int64_t base_offset);
void set_partition_leader_epoch(std::span<uint8_t> batch, int32_t epoch);
// Sets maxTimestamp and recomputes the CRC.
void set_max_timestamp(std::span<uint8_t> batch, int64_t max_timestamp);
// Marks the batch LogAppendTime with maxTimestamp = now_ms and recomputes the CRC.
void set_log_append_time(std::span<uint8_t> batch, int64_t now_ms);

// Big-endian helpers (shared with index code and tests).
inline int64_t load_be64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return static_cast<int64_t>(v);
}
inline int32_t load_be32(const uint8_t* p) {
  return static_cast<int32_t>((uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3]);
}
inline int16_t load_be16(const uint8_t* p) { return static_cast<int16_t>((p[0] << 8) | p[1]); }
inline void store_be64(uint8_t* p, int64_t value) {
  auto v = static_cast<uint64_t>(value);
  for (int i = 7; i >= 0; --i) { p[i] = static_cast<uint8_t>(v); v >>= 8; }
}
inline void store_be32(uint8_t* p, int32_t value) {
  auto v = static_cast<uint32_t>(value);
  p[0] = static_cast<uint8_t>(v >> 24); p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8); p[3] = static_cast<uint8_t>(v);
}
inline void store_be16(uint8_t* p, int16_t value) {
  auto v = static_cast<uint16_t>(value);
  p[0] = static_cast<uint8_t>(v >> 8); p[1] = static_cast<uint8_t>(v);
}

}  // namespace runnel::storage
