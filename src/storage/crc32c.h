#pragma once
// CRC32C (Castagnoli), the checksum of Kafka RecordBatch v2, hardware-accelerated via ISA-L.
#include <cstdint>
#include <span>

namespace runnel::storage {

// Standard CRC32C (initial value ~0, final inversion): crc32c("123456789") == 0xE3069283.
uint32_t crc32c(std::span<const uint8_t> data);

// Continue a CRC over more data: crc32c(a ++ b) == crc32c_extend(crc32c(a), b).
uint32_t crc32c_extend(uint32_t crc, std::span<const uint8_t> data);

}  // namespace runnel::storage
