#pragma once
// Kafka's record-batch compression codecs, byte-compatible with the Java client:
//   gzip   RFC 1952 (zlib)
//   snappy xerial framing ("\x82SNAPPY\0" + blocks) as Kafka writes it; raw snappy is
//          also read, since librdkafka writes that
//   lz4    the LZ4 frame format (KIP-57)
//   zstd   a standard zstd frame
// Only the log cleaner and the compacted-topic key check decompress; the produce
// path never does.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "storage/record_batch.h"

namespace runnel::storage {

// Upper bound on one batch's decompressed records, so a tiny "zip bomb" cannot
// make the broker allocate without limit.
inline constexpr size_t kMaxDecompressedBatchBytes = 256u << 20;

// Appends the decompressed bytes of `in` to `out`. False (with *error) on corrupt
// input, an unknown codec or output larger than max_out.
bool decompress(CompressionType type, std::span<const uint8_t> in, std::vector<uint8_t>& out,
                std::string* error, size_t max_out = kMaxDecompressedBatchBytes);

// Appends the compressed form of `in` to `out`. False only on a codec failure.
bool compress(CompressionType type, std::span<const uint8_t> in, std::vector<uint8_t>& out);

}  // namespace runnel::storage
