#include "storage/flusher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "batch_builder.h"
#include "storage/log.h"
#include "test_util.h"

using namespace runnel;
using namespace runnel::storage;
using namespace runnel::testing;

namespace {
}  // namespace

TEST(Flusher, CoalescesConcurrentRequestsAndCompletesAll) {
  TempDir tmp;
  auto a = open_log(tmp.path() + "/a-0");
  auto b = open_log(tmp.path() + "/b-0");
  Flusher flusher;
  constexpr int kThreads = 4, kPerThread = 100;
  std::atomic<int> completed{0}, bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto& log = t % 2 ? a : b;
      for (int i = 0; i < kPerThread; ++i) {
        auto batch = build_batch(1);
        auto r = log->append(batch, 0, 0);
        flusher.request(log, r.last_offset + 1, [&, target = r.last_offset + 1, log](int64_t durable, ErrorCode e) {
          if (e != ErrorCode::kNone || durable < target || log->high_watermark() < target) ++bad;
          ++completed;
        });
      }
    });
  }
  for (auto& t : threads) t.join();
  flusher.stop();
  EXPECT_EQ(completed.load(), kThreads * kPerThread);
  EXPECT_EQ(bad.load(), 0);
  EXPECT_LT(flusher.flush_calls(), static_cast<uint64_t>(kThreads * kPerThread));
  EXPECT_EQ(a->high_watermark(), 2 * kPerThread);
}

TEST(Flusher, OneFlushPerLogForAQueuedBurst) {
  TempDir tmp;
  auto log = open_log(tmp.path() + "/a-0");
  Flusher flusher;
  std::atomic<int> completed{0};
  // Keep the flusher busy on its first request while 50 more queue up.
  std::atomic<bool> release{false}, started{false};
  auto batch = build_batch(1);
  log->append(batch, 0, 0);
  flusher.request(log, 1, [&](int64_t, ErrorCode) {
    started = true;
    while (!release) std::this_thread::yield();
    ++completed;
  });
  while (!started) std::this_thread::yield();
  for (int i = 0; i < 50; ++i) {
    auto more = build_batch(1);
    auto r = log->append(more, 0, 0);
    flusher.request(log, r.last_offset + 1, [&](int64_t d, ErrorCode e) {
      EXPECT_EQ(e, ErrorCode::kNone);
      EXPECT_EQ(d, 51);
      ++completed;
    });
  }
  release = true;
  flusher.stop();
  EXPECT_EQ(completed.load(), 51);
  EXPECT_EQ(flusher.flush_calls(), 2u);
}

TEST(Flusher, RequestAfterStopFailsImmediately) {
  TempDir tmp;
  auto log = open_log(tmp.path() + "/a-0");
  Flusher flusher;
  flusher.stop();
  ErrorCode got = ErrorCode::kNone;
  flusher.request(log, 1, [&](int64_t, ErrorCode e) { got = e; });
  EXPECT_EQ(got, ErrorCode::kKafkaStorageError);
}

TEST(Flusher, ManyLogsInOneRoundAreEachMadeDurable) {
  // More logs than sync threads: the round spreads them over the pool and
  // every request still completes with its own log's durable offset.
  TempDir tmp;
  constexpr int kLogs = 24;
  std::vector<std::shared_ptr<Log>> logs;
  for (int i = 0; i < kLogs; ++i) logs.push_back(open_log(tmp.path() + "/t-" + std::to_string(i)));
  Flusher flusher(1 << 16, 4);
  std::atomic<int> completed{0}, bad{0};
  for (int i = 0; i < kLogs; ++i) {
    auto batch = build_batch(i + 1);  // a different end offset per log
    auto r = logs[i]->append(batch, 0, 0);
    flusher.request(logs[i], r.last_offset + 1, [&, target = r.last_offset + 1](int64_t durable, ErrorCode e) {
      if (e != ErrorCode::kNone || durable != target) ++bad;
      ++completed;
    });
  }
  flusher.stop();
  EXPECT_EQ(completed.load(), kLogs);
  EXPECT_EQ(bad.load(), 0);
  for (int i = 0; i < kLogs; ++i) EXPECT_EQ(logs[i]->high_watermark(), i + 1);
}
