#include "common/uuid.h"

#include <gtest/gtest.h>

namespace runnel {
namespace {

TEST(Uuid, Base64RoundTrip) {
  for (int i = 0; i < 100; ++i) {
    const Uuid id = Uuid::random();
    EXPECT_FALSE(id.is_zero());
    const std::string text = id.to_base64();
    EXPECT_EQ(text.size(), 22u);
    auto parsed = Uuid::from_base64(text);
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(*parsed, id);
  }
  EXPECT_FALSE(Uuid::from_base64("short").has_value());
  EXPECT_FALSE(Uuid::from_base64("!!!!!!!!!!!!!!!!!!!!!!").has_value());
}

}  // namespace
}  // namespace runnel
