#include "storage/message_set_conversion.h"

#include <deque>

#include "storage/compression.h"
#include "storage/legacy_message_set.h"
#include "storage/record_batch.h"
#include "storage/record_codec.h"

namespace runnel::storage {
namespace {

// A v2 record's headers section when it has none: the varint header count 0.
constexpr uint8_t kNoHeaders[1] = {0};

ErrorCode corrupt(std::string* error, std::string message) {
  if (error) *error = std::move(message);
  return ErrorCode::kCorruptMessage;
}

RecordView to_record(const LegacyMessage& message, int64_t timestamp, int64_t offset) {
  RecordView record;
  record.timestamp = timestamp;
  record.offset = offset;
  record.key = message.key;
  record.value = message.value;
  record.headers = std::span<const uint8_t>(kNoHeaders);
  return record;
}

}  // namespace

ErrorCode up_convert_message_set(std::span<const uint8_t> message_set, std::vector<uint8_t>& out,
                                 std::string* error) {
  std::vector<LegacyMessage> outer;
  std::string why;
  if (!parse_message_set(message_set, outer, &why)) return corrupt(error, why);

  // Decompressed wrapper payloads; the records point into them until encoded.
  // A deque, so earlier payloads never move when another is added.
  std::deque<std::vector<uint8_t>> payloads;
  std::vector<RecordView> records;
  int codec = 0;
  size_t decompressed_total = 0;
  for (const auto& message : outer) {
    if (message.codec() == 0) {
      const int64_t ts = message.magic == 0 ? legacy::kNoTimestamp : message.timestamp;
      records.push_back(to_record(message, ts, static_cast<int64_t>(records.size())));
      continue;
    }
    if (message.codec() > static_cast<int>(CompressionType::kLz4)) {
      if (error) *error = "compression codec " + std::to_string(message.codec()) + " needs message format v2";
      return ErrorCode::kUnsupportedCompressionType;
    }
    if (!message.value) return corrupt(error, "compressed message without a value");
    if (codec == 0) codec = message.codec();
    // Decompress, bounded like a v2 batch (a small wrapper must not make us allocate without limit).
    std::vector<uint8_t> compressed;
    std::span<const uint8_t> input = *message.value;
    if (message.codec() == static_cast<int>(CompressionType::kLz4) && message.magic == 0) {
      compressed.assign(input.begin(), input.end());
      if (!fix_magic0_lz4_header_checksum(compressed)) return corrupt(error, "lz4: truncated frame header");
      input = compressed;
    }
    auto& payload = payloads.emplace_back();
    if (!decompress(static_cast<CompressionType>(message.codec()), input, payload, &why,
                    kMaxDecompressedBatchBytes - decompressed_total)) {
      return corrupt(error, "cannot decompress wrapper message: " + why);
    }
    decompressed_total += payload.size();
    std::vector<LegacyMessage> inner;
    if (!parse_message_set(payload, inner, &why)) return corrupt(error, "inner message set: " + why);
    if (inner.empty()) return corrupt(error, "compressed message holds no messages");
    for (const auto& record : inner) {
      // Kafka's LogValidator: inner messages are never compressed themselves, and
      // carry the wrapper's magic.
      if (record.codec() != 0) return corrupt(error, "nested compressed message");
      if (record.magic != message.magic) return corrupt(error, "inner message magic differs from its wrapper's");
      int64_t ts = legacy::kNoTimestamp;
      if (message.magic >= 1) ts = message.log_append_time() ? message.timestamp : record.timestamp;
      records.push_back(to_record(record, ts, static_cast<int64_t>(records.size())));
    }
  }
  if (records.empty()) return corrupt(error, "empty message set");
  if (records.size() > static_cast<size_t>(INT32_MAX)) return corrupt(error, "too many messages");

  BatchHeader header;
  header.base_offset = 0;
  header.last_offset_delta = static_cast<int32_t>(records.size() - 1);
  header.attributes = static_cast<int16_t>(codec);
  header.max_timestamp = legacy::kNoTimestamp;
  if (!encode_batch(header, records, -1, out)) return corrupt(error, "cannot compress the converted batch");
  return ErrorCode::kNone;
}

bool down_convert_batches(std::span<const uint8_t> batches, int8_t to_magic, int64_t first_offset, size_t max_bytes,
                          std::vector<uint8_t>& out, std::string* error) {
  const size_t start = out.size();
  size_t pos = 0;
  while (batches.size() - pos >= kBatchHeaderSize) {
    const BatchHeader header = parse_batch_header(batches.subspan(pos));
    if (header.batch_length < 0 || static_cast<uint64_t>(header.total_size()) > batches.size() - pos) {
      // Log::read hands out whole batches; a partial one can only be a trailing fragment.
      break;
    }
    const auto batch = batches.subspan(pos, static_cast<size_t>(header.total_size()));
    pos += batch.size();
    if (header.control() || header.last_offset() < first_offset) continue;
    DecodedBatch decoded;
    if (!decode_batch(batch, decoded, error)) return false;
    for (const auto& record : decoded.records) {
      if (record.offset < first_offset) continue;
      int8_t attributes = 0;
      int64_t timestamp = record.timestamp;
      if (to_magic >= 1 && header.log_append_time()) {
        attributes = legacy::kTimestampTypeLogAppend;
        timestamp = header.max_timestamp;
      }
      const size_t before = out.size();
      write_message(out, record.offset, to_magic, attributes, timestamp, record.key, record.value);
      if (out.size() - start > max_bytes && before > start) {
        out.resize(before);  // over the limit and not the first message: stop here
        return true;
      }
    }
  }
  return true;
}

}  // namespace runnel::storage
