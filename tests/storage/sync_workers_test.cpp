#include "storage/sync_workers.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <set>
#include <thread>
#include <vector>

using runnel::storage::SyncWorkers;

TEST(SyncWorkers, RunsEveryCallOnceInEachRound) {
  SyncWorkers workers(4);
  for (size_t round = 0; round < 200; ++round) {
    const size_t count = round % 17;  // 0, 1 and more calls than threads
    std::vector<std::atomic<int>> calls(count);
    workers.for_each(count, [&](size_t i) { ++calls[i]; });
    for (size_t i = 0; i < count; ++i) ASSERT_EQ(calls[i].load(), 1) << "round " << round << " call " << i;
  }
}

TEST(SyncWorkers, BlockingCallsOverlap) {
  // Four calls that each wait until all four have started: they can only
  // finish if they run at the same time.
  SyncWorkers workers(4);
  std::atomic<int> started{0};
  std::atomic<int> finished{0};
  workers.for_each(4, [&](size_t) {
    ++started;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (started.load() < 4 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    if (started.load() == 4) ++finished;
  });
  EXPECT_EQ(finished.load(), 4);
}

TEST(SyncWorkers, OneThreadRunsOnTheCaller) {
  SyncWorkers workers(1);
  std::set<std::thread::id> threads;
  workers.for_each(5, [&](size_t) { threads.insert(std::this_thread::get_id()); });
  ASSERT_EQ(threads.size(), 1u);
  EXPECT_EQ(*threads.begin(), std::this_thread::get_id());
}
