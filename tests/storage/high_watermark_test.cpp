// Who owns the high watermark: the flusher (a single node, the default) or the
// caller (replication), and what is bounded by it either way.
#include <gtest/gtest.h>

#include "replication_util.h"
#include "storage/log.h"

using namespace runnel;
using namespace runnel::storage;
using namespace runnel::testing;

namespace {

using Entries = std::vector<EpochEntry>;

LogConfig small_segments() {
  LogConfig config;
  config.segment_bytes = 400;
  config.index_interval_bytes = 100;
  config.retention_ms = 1000;  // every batch below is long expired at now = 1'000'000
  config.file_delete_delay_ms = 0;
  return config;
}

std::shared_ptr<Log> caller_managed(const std::string& dir, LogConfig config = small_segments(), int64_t hw = -1) {
  return open_follower_log(dir, config, false, nullptr, 0, /*hw_follows_flush=*/false, hw);
}

}  // namespace

TEST(HighWatermark, FollowsFlushByDefault) {
  TempDir tmp;
  auto log = open_log(tmp.path() + "/t-0");
  EXPECT_TRUE(log->hw_follows_flush());
  ASSERT_EQ(log->append_as_follower(leader_batches(0, 2, 2, 0), 0).error, ErrorCode::kNone);
  EXPECT_EQ(log->high_watermark(), 0);
  EXPECT_EQ(log->set_high_watermark(3), 0);  // the caller does not own it here
  EXPECT_EQ(log->high_watermark(), 0);
  log->flush();
  EXPECT_EQ(log->durable_offset(), 4);
  EXPECT_EQ(log->high_watermark(), 4);
}

TEST(HighWatermark, CallerManagedIsClampedAndIndependentOfFlush) {
  TempDir tmp;
  auto log = caller_managed(tmp.path() + "/t-0");
  EXPECT_FALSE(log->hw_follows_flush());
  EXPECT_EQ(log->high_watermark(), 0);  // no checkpoint: the log start
  ASSERT_EQ(log->append_as_follower(leader_batches(0, 5, 2, 0), 0).error, ErrorCode::kNone);  // 0..9
  EXPECT_EQ(log->high_watermark(), 0);
  log->flush();
  EXPECT_EQ(log->durable_offset(), 10);
  EXPECT_EQ(log->high_watermark(), 0);  // flushing does not move it
  EXPECT_EQ(log->set_high_watermark(6), 6);
  EXPECT_EQ(log->set_high_watermark(50), 10);  // never past the log end
  EXPECT_EQ(log->set_high_watermark(-7), 0);   // never below the log start
  EXPECT_EQ(log->set_high_watermark(4), 4);    // it may go down (Kafka's updateHighWatermark)
  EXPECT_EQ(log->high_watermark(), 4);
  // Callers read up to it.
  auto r = log->read(0, 1 << 20, log->high_watermark(), true);
  EXPECT_EQ(batch_bases(r.bytes), (std::vector<int64_t>{0, 2}));
}

TEST(HighWatermark, StartsFromTheCheckpointClamped) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/t-0";
  {
    auto log = caller_managed(dir);
    ASSERT_EQ(log->append_as_follower(leader_batches(0, 5, 2, 0), 0).error, ErrorCode::kNone);
    log->close();
  }
  EXPECT_EQ(caller_managed(dir, small_segments(), 7)->high_watermark(), 7);
  EXPECT_EQ(caller_managed(dir, small_segments(), 70)->high_watermark(), 10);
  EXPECT_EQ(caller_managed(dir, small_segments(), -1)->high_watermark(), 0);
  // The default mode ignores it: everything recovered is durable.
  EXPECT_EQ(open_follower_log(dir, small_segments(), false, nullptr, 0, true, 3)->high_watermark(), 10);
}

TEST(HighWatermark, RetentionNeverPassesIt) {
  TempDir tmp;
  auto log = caller_managed(tmp.path() + "/t-0");
  for (int i = 0; i < 6; ++i)
    ASSERT_EQ(log->append_as_follower(leader_batches(6 * int64_t{i}, 3, 2, i), 1000).error, ErrorCode::kNone);
  log->flush();  // durable everywhere: only the HW holds retention back
  const auto bases = log->segment_base_offsets();
  ASSERT_GE(bases.size(), 4u);
  EXPECT_EQ(log->apply_retention(1'000'000), 0u);  // HW 0
  log->set_high_watermark(bases[2]);
  EXPECT_EQ(log->apply_retention(1'000'000), 2u);  // the two segments wholly below the HW
  EXPECT_EQ(log->log_start_offset(), bases[2]);
  EXPECT_EQ(log->segment_base_offsets().front(), bases[2]);
  // The epoch cache follows the log start.
  EXPECT_EQ(log->epoch_entries().front().start_offset, bases[2]);
}

TEST(HighWatermark, DeleteRecordsIsBoundedByIt) {
  TempDir tmp;
  auto log = caller_managed(tmp.path() + "/t-0");
  ASSERT_EQ(log->append_as_follower(leader_batches(0, 5, 2, 0), 0).error, ErrorCode::kNone);
  log->set_high_watermark(6);
  EXPECT_EQ(log->delete_records_before(7), ErrorCode::kOffsetOutOfRange);
  // Up to the HW even though nothing is durable yet: the caller decided it.
  EXPECT_EQ(log->durable_offset(), 0);
  EXPECT_EQ(log->delete_records_before(6), ErrorCode::kNone);
  EXPECT_EQ(log->log_start_offset(), 6);
  EXPECT_EQ(log->set_high_watermark(2), 6);  // and the HW never goes below the log start
}

TEST(HighWatermark, FollowerLogStartFollowsTheLeaderUpToIt) {
  TempDir tmp;
  auto log = caller_managed(tmp.path() + "/t-0");
  ASSERT_EQ(log->append_as_follower(leader_batches(0, 3, 2, 1), 0).error, ErrorCode::kNone);
  ASSERT_EQ(log->append_as_follower(leader_batches(6, 2, 2, 3), 0).error, ErrorCode::kNone);  // 0..9
  log->set_high_watermark(8);
  EXPECT_EQ(log->maybe_increment_log_start_offset(4), 4);
  EXPECT_EQ(log->epoch_entries(), (Entries{{1, 4}, {3, 6}}));
  EXPECT_EQ(log->maybe_increment_log_start_offset(2), 4);  // never backwards
  EXPECT_EQ(log->maybe_increment_log_start_offset(9), 8);  // capped at the HW
  EXPECT_EQ(log->epoch_entries(), (Entries{{3, 8}}));
  EXPECT_EQ(log->read(7, 100, INT64_MAX, true).error, ErrorCode::kOffsetOutOfRange);
  // Segments wholly below go at the next retention pass.
  EXPECT_EQ(log->log_start_offset(), 8);
  log->close();
  EXPECT_EQ(log->maybe_increment_log_start_offset(9), 8);  // closed: nothing moves
}
