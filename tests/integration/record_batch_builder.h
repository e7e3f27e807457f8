// Builds RecordBatch v2 (magic 2) bytes by hand, with knobs to break them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "test_record.h"
#include "wire_codec.h"

namespace runnel::it {

struct BatchOptions {
  std::int64_t base_offset = 0;
  std::int64_t base_timestamp = 1700000000000;
  std::int8_t magic = 2;
  // Corruptions, applied after the batch is otherwise well formed:
  bool flip_crc = false;            // CRC field does not match the contents
  std::int32_t length_delta = 0;    // added to batchLength (CRC stays valid)
  std::int32_t count_delta = 0;     // added to the records count (CRC recomputed)
};

// One uncompressed batch holding `records` (offset deltas 0..n-1).
Bytes BuildRecordBatch(const std::vector<TestRecord>& records, const BatchOptions& options = {});

// Walks batch headers in a log segment / records blob: returns the byte
// positions where each complete batch starts, and sets *valid_end to the end
// of the last complete batch.
std::vector<std::size_t> BatchStarts(const std::string& data, std::size_t* valid_end);

// Base offset and record count (lastOffsetDelta+1) of the batch at `pos`.
std::int64_t BatchBaseOffset(const std::string& data, std::size_t pos);
std::int32_t BatchRecordCount(const std::string& data, std::size_t pos);

}  // namespace runnel::it
