#pragma once
// Conversion between the old message formats (magic 0/1) and RecordBatch v2, as
// Kafka 3.x does for old clients:
//   up:   Produce v0-v2 carries message sets; like Kafka's LogValidator the broker
//         turns one partition's message set into one v2 batch before the normal
//         append path (which then validates it and assigns offsets).
//   down: Fetch v0-v3 consumers cannot read v2 batches; the batches read from the
//         log are rewritten as message sets of the magic the fetch version allows.
// Both are per-record work, which is why only these old versions pay for it: the
// v3+ produce and v4+ fetch paths never call into this file.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/error_code.h"

namespace runnel::storage {

// Converts a whole message set (magic 0 and/or 1, wrappers compressed with gzip,
// snappy or lz4 holding inner messages) into one RecordBatch v2 appended to `out`:
// base offset 0 and offsets 0..n-1 (the log reassigns them), no producer id,
// CreateTime, compressed with the set's codec (the first wrapper's; none if no
// message is compressed), no headers. Timestamps: magic 0 has none
// (NO_TIMESTAMP, -1); magic 1 keeps each message's, except that inner messages of
// a LogAppendTime wrapper take the wrapper's timestamp (Kafka's rule).
// Errors (out unchanged, *error says why):
//   kCorruptMessage              truncated / bad sizes / bad CRC / magic not 0-1 /
//                                nested compression / undecompressible wrapper /
//                                no messages at all
//   kUnsupportedCompressionType  codec 4 (zstd) or above: old formats cannot carry it
ErrorCode up_convert_message_set(std::span<const uint8_t> message_set, std::vector<uint8_t>& out,
                                 std::string* error);

// Rewrites whole v2 batches (as Log::read returns them) into an uncompressed
// message set of `to_magic` (0 or 1) appended to `out`. Records with offsets below
// `first_offset` are dropped (the first batch may start before the fetch offset),
// control batches are dropped (old consumers know no control records), and
// record headers are dropped (old formats cannot carry them). Magic 1 messages
// keep the record timestamp, or the batch's maxTimestamp with the LogAppendTime
// bit set when the batch is LogAppendTime. Compressed source batches are written
// uncompressed: simpler, and the old consumer gets the same records; the cost is
// bandwidth for those few clients only.
// Messages are added while the output stays within max_bytes, but at least one is
// always written (KIP-74's rule, so a consumer can always progress). False (with
// *error) if a stored batch cannot be decoded; `out` then holds what was converted
// before it.
bool down_convert_batches(std::span<const uint8_t> batches, int8_t to_magic, int64_t first_offset, size_t max_bytes,
                          std::vector<uint8_t>& out, std::string* error);

}  // namespace runnel::storage
