#include "storage/crc32c.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using runnel::storage::crc32c;
using runnel::storage::crc32c_extend;

namespace {
std::span<const uint8_t> bytes(const std::string& s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }
}  // namespace

TEST(Crc32c, StandardCheckValue) { EXPECT_EQ(crc32c(bytes("123456789")), 0xE3069283u); }

TEST(Crc32c, KnownVectors) {
  EXPECT_EQ(crc32c({}), 0u);
  // RFC 3720 B.4: 32 bytes of zeros / of 0xFF.
  std::vector<uint8_t> zeros(32, 0), ones(32, 0xFF);
  EXPECT_EQ(crc32c(zeros), 0x8A9136AAu);
  EXPECT_EQ(crc32c(ones), 0x62A8AB43u);
}

TEST(Crc32c, ExtendEqualsWhole) {
  std::string a = "hello, ", b = "kafka world";
  EXPECT_EQ(crc32c_extend(crc32c(bytes(a)), bytes(b)), crc32c(bytes(a + b)));
}
