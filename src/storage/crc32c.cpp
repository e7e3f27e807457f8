#include "storage/crc32c.h"

#include <isa-l.h>

namespace runnel::storage {

// ISA-L's crc32_iscsi neither pre- nor post-inverts: the standard CRC32C is
// crc32_iscsi(buf, len, ~0) ^ ~0, and chaining passes the un-inverted state back in.
uint32_t crc32c_extend(uint32_t crc, std::span<const uint8_t> data) {
  uint32_t state = ~crc;
  size_t remaining = data.size();
  const uint8_t* p = data.data();
  while (remaining > 0) {  // ISA-L takes an int length
    int chunk = remaining > (1u << 30) ? (1 << 30) : static_cast<int>(remaining);
    state = crc32_iscsi(const_cast<unsigned char*>(p), chunk, state);
    p += chunk;
    remaining -= static_cast<size_t>(chunk);
  }
  return ~state;
}

uint32_t crc32c(std::span<const uint8_t> data) { return crc32c_extend(0, data); }

}  // namespace runnel::storage
