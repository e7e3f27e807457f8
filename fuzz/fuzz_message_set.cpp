// libFuzzer target: old message sets (magic 0/1), as Produce v0-2 clients send
// them. The first input byte picks options; the rest is the message set. With
// bit 0 set, each top-level message's CRC32 is recomputed first, so mutations
// get past the CRC check into the wrappers and codecs. A set that converts must
// give one valid RecordBatch v2, and that batch must down-convert (Fetch v0-3)
// to a well-formed set of either magic with one message per record.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "storage/legacy_message_set.h"
#include "storage/message_set_conversion.h"
#include "storage/record_batch.h"

using namespace runnel;
using namespace runnel::storage;

namespace {

// Entry: offset (8), message size (4), then the message: crc (4) over the rest.
void fix_crcs(std::vector<uint8_t>& bytes) {
  size_t pos = 0;
  while (pos + legacy::kLogOverhead + 4 <= bytes.size()) {
    const int64_t size = load_be32(bytes.data() + pos + 8);
    if (size < 4 || pos + legacy::kLogOverhead + static_cast<size_t>(size) > bytes.size()) return;
    uint8_t* message = bytes.data() + pos + legacy::kLogOverhead;
    const auto crc = crc32_ieee({message + 4, static_cast<size_t>(size) - 4});
    store_be32(message, static_cast<int32_t>(crc));
    pos += legacy::kLogOverhead + static_cast<size_t>(size);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t mode = data[0];
  std::vector<uint8_t> bytes(data + 1, data + size);
  if (mode & 1) fix_crcs(bytes);

  std::vector<uint8_t> batch;
  std::string error;
  if (up_convert_message_set(bytes, batch, &error) != ErrorCode::kNone) {
    if (!batch.empty()) abort();  // a refused set leaves nothing behind
    return 0;
  }
  ValidationConfig config;
  config.max_message_bytes = INT32_MAX;  // decompressed sets may be large; size limits are not the point here
  const ValidationResult valid = validate_batches(batch, config);
  if (valid.error != ErrorCode::kNone || valid.batches.size() != 1) abort();
  for (int8_t magic : {0, 1}) {
    std::vector<uint8_t> down;
    if (!down_convert_batches(batch, magic, 0, SIZE_MAX, down, &error)) abort();
    std::vector<LegacyMessage> messages;
    if (!parse_message_set(down, messages, &error)) abort();
    if (messages.size() != static_cast<size_t>(valid.record_count)) abort();
  }
  return 0;
}
