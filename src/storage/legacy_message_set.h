#pragma once
// Kafka's old message formats (magic 0 and 1, "message sets", before KIP-98):
// parsing and writing single messages. Runnel stores only RecordBatch v2; these
// formats exist only at the edge, for Produce v0-v2 and Fetch v0-v3 clients
// (see message_set_conversion.h).
//
// One message set entry (all big-endian):
//   offset       int64
//   message_size int32   bytes after this field
//   crc          uint32  CRC32 (IEEE, zlib's crc32, not CRC32C) over [magic, end)
//   magic        int8    0 or 1
//   attributes   int8    bits 0-2 codec (0 none, 1 gzip, 2 snappy, 3 lz4);
//                        bit 3 timestamp type (magic 1: 1 = LogAppendTime)
//   timestamp    int64   magic 1 only
//   key          bytes   int32 length, -1 = null
//   value        bytes   int32 length, -1 = null
// A compressed message is a "wrapper": its value is a compressed message set of
// inner (uncompressed) messages.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace runnel::storage {

namespace legacy {
inline constexpr size_t kLogOverhead = 12;        // offset + message_size
inline constexpr size_t kMinMessageSizeV0 = 14;   // crc magic attributes key-len value-len
inline constexpr size_t kMinMessageSizeV1 = 22;   // + timestamp
inline constexpr int8_t kCodecMask = 0x07;
inline constexpr int8_t kTimestampTypeLogAppend = 0x08;
inline constexpr int64_t kNoTimestamp = -1;
}  // namespace legacy

// One parsed message: views into the buffer it was parsed from.
struct LegacyMessage {
  int64_t offset = 0;
  int8_t magic = 0;
  int8_t attributes = 0;
  int64_t timestamp = legacy::kNoTimestamp;  // magic 0: always kNoTimestamp
  std::optional<std::span<const uint8_t>> key;
  std::optional<std::span<const uint8_t>> value;

  int codec() const { return attributes & legacy::kCodecMask; }
  bool log_append_time() const { return magic >= 1 && (attributes & legacy::kTimestampTypeLogAppend) != 0; }
};

// CRC32 (IEEE 802.3, as java.util.zip.CRC32) of `data`.
uint32_t crc32_ieee(std::span<const uint8_t> data);

// Parses a whole message set (concatenated entries, no trailing bytes). Every
// entry is checked: sizes, magic 0/1, CRC, key/value lengths. False (with *error)
// on the first bad entry; a trailing partial entry is an error too, since a
// producer never sends one.
bool parse_message_set(std::span<const uint8_t> data, std::vector<LegacyMessage>& out, std::string* error);

// Appends one uncompressed message entry (CRC computed). Magic 0 ignores timestamp.
void write_message(std::vector<uint8_t>& out, int64_t offset, int8_t magic, int8_t attributes, int64_t timestamp,
                   std::optional<std::span<const uint8_t>> key, std::optional<std::span<const uint8_t>> value);

// Kafka's lz4 framing for magic 0 (KAFKA-3160): the frame descriptor's header
// checksum was computed over the 4-byte frame magic too, so standard lz4 readers
// reject it; Kafka's reader ignores the checksum for magic 0. This rewrites the
// checksum byte to the correct value so liblz4 accepts the frame. False if the
// frame header is too short to be lz4.
bool fix_magic0_lz4_header_checksum(std::vector<uint8_t>& frame);

}  // namespace runnel::storage
