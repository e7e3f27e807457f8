// libFuzzer target: RecordBatch v2 parsing and validation, compressed included.
// The first input byte picks options; the rest is a records set as a Produce
// request carries it. With bit 0 set, each batch's CRC is recomputed first
// (and a short batchLength is left alone), so mutations get past the CRC check
// into the record walk and the codecs (gzip, snappy, lz4, zstd). Whatever
// validates is decoded record by record as the log cleaner and the
// compacted-topic key check do, and a decoded batch is re-encoded and decoded
// again, which must give the same records.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "storage/record_batch.h"
#include "storage/record_codec.h"

using namespace runnel::storage;

namespace {

void fix_crcs(std::vector<uint8_t>& bytes) {
  size_t pos = 0;
  while (pos + kBatchHeaderSize <= bytes.size()) {
    const int64_t length = load_be32(bytes.data() + pos + batch_layout::kBatchLength);
    const int64_t total = length + static_cast<int64_t>(batch_layout::kLogOverhead);
    if (length < 0 || total < static_cast<int64_t>(kBatchHeaderSize) ||
        pos + static_cast<size_t>(total) > bytes.size())
      return;
    std::span<uint8_t> batch(bytes.data() + pos, static_cast<size_t>(total));
    store_be32(batch.data() + batch_layout::kCrc, static_cast<int32_t>(compute_batch_crc(batch)));
    pos += static_cast<size_t>(total);
  }
}

void check_round_trip(std::span<const uint8_t> batch) {
  DecodedBatch decoded;
  std::string error;
  if (!decode_batch(batch, decoded, &error)) return;
  std::vector<uint8_t> encoded;
  if (!encode_batch(decoded.header, decoded.records, delete_horizon_ms(decoded.header), encoded)) return;
  DecodedBatch again;
  if (!decode_batch(encoded, again, &error)) abort();  // what we write must read back
  if (again.records.size() != decoded.records.size()) abort();
  for (size_t i = 0; i < again.records.size(); ++i) {
    const auto& a = decoded.records[i];
    const auto& b = again.records[i];
    if (a.offset != b.offset || a.key.has_value() != b.key.has_value() ||
        a.value.has_value() != b.value.has_value())
      abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t mode = data[0];
  std::vector<uint8_t> bytes(data + 1, data + size);
  if (mode & 1) fix_crcs(bytes);
  ValidationConfig config;
  config.max_message_bytes = (mode & 2) ? 1 << 20 : 1 << 16;
  const ValidationResult result = validate_batches(bytes, config);
  if (result.error != runnel::ErrorCode::kNone) {
    if (!result.batches.empty()) abort();  // documented: empty on error
    return 0;
  }
  int64_t records = 0;
  for (const auto& b : result.batches) {
    if (b.position + b.size() > bytes.size()) abort();
    records += b.header.record_count;
    const auto batch = std::span<const uint8_t>(bytes).subspan(b.position, b.size());
    int32_t index = -1;
    std::string error;
    (void)find_record_without_key(batch, index, &error);
    check_round_trip(batch);
  }
  if (records != result.record_count) abort();
  return 0;
}
