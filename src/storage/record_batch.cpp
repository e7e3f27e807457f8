#include "storage/record_batch.h"

#include "storage/crc32c.h"

namespace runnel::storage {

namespace L = batch_layout;

BatchHeader parse_batch_header(std::span<const uint8_t> data) {
  const uint8_t* p = data.data();
  BatchHeader h;
  h.base_offset = load_be64(p + L::kBaseOffset);
  h.batch_length = load_be32(p + L::kBatchLength);
  h.partition_leader_epoch = load_be32(p + L::kPartitionLeaderEpoch);
  h.magic = static_cast<int8_t>(p[L::kMagic]);
  h.crc = static_cast<uint32_t>(load_be32(p + L::kCrc));
  h.attributes = load_be16(p + L::kAttributes);
  h.last_offset_delta = load_be32(p + L::kLastOffsetDelta);
  h.base_timestamp = load_be64(p + L::kBaseTimestamp);
  h.max_timestamp = load_be64(p + L::kMaxTimestamp);
  h.producer_id = load_be64(p + L::kProducerId);
  h.producer_epoch = load_be16(p + L::kProducerEpoch);
  h.base_sequence = load_be32(p + L::kBaseSequence);
  h.record_count = load_be32(p + L::kRecordCount);
  return h;
}

uint32_t compute_batch_crc(std::span<const uint8_t> batch) { return crc32c(batch.subspan(L::kAttributes)); }

namespace {

ValidationResult fail(ErrorCode code) {
  ValidationResult r;
  r.error = code;
  return r;
}

}  // namespace

ValidationResult validate_batches(std::span<const uint8_t> data, const ValidationConfig& config) {
  if (data.empty()) return fail(ErrorCode::kCorruptMessage);
  if (static_cast<int64_t>(data.size()) > config.max_records_bytes) return fail(ErrorCode::kRecordListTooLarge);

  ValidationResult result;
  size_t pos = 0;
  int64_t total_records = 0;
  while (pos < data.size()) {
    const size_t remaining = data.size() - pos;
    // Even the length field must be complete; a stub at the end is a partial batch.
    if (remaining < L::kLogOverhead) return fail(ErrorCode::kCorruptMessage);
    const int32_t batch_length = load_be32(data.data() + pos + L::kBatchLength);
    if (batch_length < static_cast<int32_t>(L::kHeaderSize - L::kLogOverhead)) return fail(ErrorCode::kCorruptMessage);
    const size_t total = static_cast<size_t>(batch_length) + L::kLogOverhead;
    if (total > remaining) return fail(ErrorCode::kCorruptMessage);  // huge length or truncated tail
    if (static_cast<int64_t>(total) > config.max_message_bytes) return fail(ErrorCode::kMessageTooLarge);

    auto batch = data.subspan(pos, total);
    const int8_t magic = static_cast<int8_t>(batch[L::kMagic]);
    if (magic == 0 || magic == 1) return fail(ErrorCode::kUnsupportedForMessageFormat);
    if (magic != kCurrentMagic) return fail(ErrorCode::kCorruptMessage);

    BatchHeader h = parse_batch_header(batch);
    if (compute_batch_crc(batch) != h.crc) return fail(ErrorCode::kCorruptMessage);
    if (h.record_count < 1 || h.last_offset_delta != h.record_count - 1) return fail(ErrorCode::kInvalidRecord);
    if (h.compression() > static_cast<int>(CompressionType::kZstd)) return fail(ErrorCode::kCorruptMessage);

    total_records += h.record_count;
    if (total_records > INT32_MAX) return fail(ErrorCode::kRecordListTooLarge);
    result.batches.push_back(BatchLocation{pos, h});
    pos += total;
  }
  result.record_count = static_cast<int32_t>(total_records);
  return result;
}

void set_base_offset(std::span<uint8_t> batch, int64_t base_offset) {
  store_be64(batch.data() + L::kBaseOffset, base_offset);
}

void set_partition_leader_epoch(std::span<uint8_t> batch, int32_t epoch) {
  store_be32(batch.data() + L::kPartitionLeaderEpoch, epoch);
}

void set_max_timestamp(std::span<uint8_t> batch, int64_t max_timestamp) {
  store_be64(batch.data() + L::kMaxTimestamp, max_timestamp);
  store_be32(batch.data() + L::kCrc, static_cast<int32_t>(compute_batch_crc(batch)));
}

void set_log_append_time(std::span<uint8_t> batch, int64_t now_ms) {
  int16_t attributes = load_be16(batch.data() + L::kAttributes);
  store_be16(batch.data() + L::kAttributes, static_cast<int16_t>(attributes | batch_attr::kLogAppendTime));
  set_max_timestamp(batch, now_ms);
}

}  // namespace runnel::storage
