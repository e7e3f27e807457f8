#include "server/frame_buffer.h"

#include <gtest/gtest.h>

#include <cstring>

namespace runnel::server {
namespace {

TEST(FrameBuffer, GrowsKeepingWhatWasWritten) {
  FrameBuffer buffer;
  std::memcpy(buffer.extend(3, 8), "abc", 3);
  EXPECT_EQ(buffer.capacity(), 8u);  // the expected size up front: no regrowth
  std::memcpy(buffer.extend(5), "defgh", 5);
  EXPECT_EQ(buffer.capacity(), 8u);
  std::memcpy(buffer.extend(2), "ij", 2);
  EXPECT_GE(buffer.capacity(), 16u);  // geometric growth past the hint
  ASSERT_EQ(buffer.size(), 10u);
  EXPECT_EQ(std::memcmp(buffer.data(), "abcdefghij", 10), 0);
  FrameBuffer moved = std::move(buffer);
  EXPECT_EQ(moved.size(), 10u);
  EXPECT_EQ(buffer.size(), 0u);
  EXPECT_EQ(buffer.data(), nullptr);
}

TEST(FrameBufferPool, ReusesBuffersUpToItsLimit) {
  FrameBufferPool pool(100);
  FrameBuffer first;
  first.extend(10, 60);
  const uint8_t* memory = first.data();
  pool.give(std::move(first));
  EXPECT_EQ(pool.held_bytes(), 60u);
  FrameBuffer second;
  second.extend(10, 60);
  pool.give(std::move(second));  // 120 bytes would exceed the limit: freed instead
  EXPECT_EQ(pool.held_bytes(), 60u);

  FrameBuffer reused = pool.take();
  EXPECT_EQ(reused.data(), memory);
  EXPECT_EQ(reused.size(), 0u);  // emptied, memory kept
  EXPECT_EQ(reused.capacity(), 60u);
  EXPECT_EQ(pool.held_bytes(), 0u);
  EXPECT_EQ(pool.take().capacity(), 0u);  // empty pool: a new, empty buffer
}

}  // namespace
}  // namespace runnel::server
