// queued.max.request.bytes accounting (server/request_memory_pool.h).
#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>

#include "server/request_memory_pool.h"

namespace runnel::server {
namespace {

TEST(RequestMemoryPool, RefusesBeyondCapacityAndReleasesOnShareDestruction) {
  RequestMemoryPool pool(100);
  EXPECT_TRUE(pool.try_acquire(60));
  EXPECT_FALSE(pool.try_acquire(50));
  {
    PoolShare share(&pool);
    ASSERT_TRUE(pool.try_acquire(40));
    share.add(40);
    EXPECT_EQ(pool.used(), 100);
  }
  EXPECT_EQ(pool.used(), 60);
  pool.release(60);
  EXPECT_EQ(pool.used(), 0);
  EXPECT_EQ(pool.peak(), 100);
}

TEST(RequestMemoryPool, OneRequestLargerThanThePoolStillProceedsWhenNothingElseIsHeld) {
  RequestMemoryPool pool(100);
  EXPECT_TRUE(pool.try_acquire(500));
  EXPECT_FALSE(pool.try_acquire(1));
  pool.release(500);
  EXPECT_TRUE(pool.try_acquire(1));
}

TEST(RequestMemoryPool, SmallRequestsHaveAReserve) {
  RequestMemoryPool pool(800);
  EXPECT_TRUE(pool.try_acquire(800));
  EXPECT_FALSE(pool.try_acquire(50));
  EXPECT_TRUE(pool.try_acquire(50, /*small_request=*/true));
  EXPECT_TRUE(pool.try_acquire(50, true));
  EXPECT_FALSE(pool.try_acquire(50, true));  // the reserve is capacity / 8
}

TEST(RequestMemoryPool, UnboundedWhenCapacityIsNotPositive) {
  RequestMemoryPool pool(-1);
  EXPECT_TRUE(pool.try_acquire(int64_t{1} << 40));
  EXPECT_TRUE(pool.try_acquire(int64_t{1} << 40));
}

TEST(RequestMemoryPool, ReleaseWakesEveryWaiter) {
  asio::io_context io;
  RequestMemoryPool pool(10);
  AsyncEvent a(io.get_executor()), b(io.get_executor());
  pool.wait_for_release(&a);
  pool.wait_for_release(&b);
  pool.forget(&b);
  ASSERT_TRUE(pool.try_acquire(10));
  pool.release(10);
  // a was notified (its next wait returns at once); b was forgotten.
  bool a_notified = false, b_notified = true;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    a_notified = co_await a.wait_until(std::chrono::steady_clock::now());
    b_notified = co_await b.wait_until(std::chrono::steady_clock::now());
  }, asio::detached);
  io.run();
  EXPECT_TRUE(a_notified);
  EXPECT_FALSE(b_notified);
}

}  // namespace
}  // namespace runnel::server
