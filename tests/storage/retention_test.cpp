// Retention: time, size and log-start driven segment deletion, deferred file
// removal, and readers that hold a deleted segment.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <thread>

#include "batch_builder.h"
#include "storage/log.h"
#include "storage/log_maintenance.h"
#include "storage/log_manager.h"
#include "test_util.h"

using namespace runnel;
using namespace runnel::storage;
using namespace runnel::testing;
namespace fs = std::filesystem;

namespace {

LogConfig small_segments() {
  LogConfig c;
  c.segment_bytes = 400;
  c.retention_ms = -1;
  c.file_delete_delay_ms = 1000;
  return c;
}

// 20 batches of 2 records, batch i with timestamps around 1000 * (i + 1); then flushed.
void fill(Log& log) {
  for (int i = 0; i < 20; ++i) {
    auto b = build_batch(2, 60, 1000 * (i + 1));
    ASSERT_EQ(log.append(b, 0, 1000 * (i + 1)).error, ErrorCode::kNone);
  }
  log.flush();
}

size_t count_files(const std::string& dir, const std::string& suffix) {
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().string().ends_with(suffix)) ++n;
  return n;
}

}  // namespace

TEST(Retention, TimeDeletesWholeSegmentsFromTheFront) {
  TempDir tmp;
  auto config = small_segments();
  config.retention_ms = 10'000;
  auto log = open_log(tmp.path() + "/t-0", config);
  fill(*log);
  const auto before = log->segment_base_offsets();
  ASSERT_GT(before.size(), 4u);
  EXPECT_EQ(log->apply_retention(5'000), 0u);  // nothing older than 10 s yet
  const size_t removed = log->apply_retention(20'500);
  ASSERT_GT(removed, 0u);
  // Every segment left holds a timestamp within retention; the start is a segment base.
  EXPECT_EQ(log->log_start_offset(), log->segment_base_offsets().front());
  EXPECT_GT(log->log_start_offset(), 0);
  EXPECT_EQ(log->read(0, 1000, INT64_MAX, true).error, ErrorCode::kOffsetOutOfRange);
  EXPECT_EQ(log->read(log->log_start_offset(), 1000, INT64_MAX, true).error, ErrorCode::kNone);
  // Renamed now, unlinked after file.delete.delay.ms.
  EXPECT_EQ(count_files(tmp.path() + "/t-0", ".log.deleted"), removed);
  EXPECT_EQ(log->delete_expired_files(20'900), 0u);
  EXPECT_EQ(log->delete_expired_files(21'600), removed);
  EXPECT_EQ(count_files(tmp.path() + "/t-0", ".deleted"), 0u);
}

TEST(Retention, EverythingExpiredRollsAnEmptyActiveSegment) {
  TempDir tmp;
  auto config = small_segments();
  config.retention_ms = 1'000;
  auto log = open_log(tmp.path() + "/t-0", config);
  fill(*log);
  log->apply_retention(1'000'000);
  EXPECT_EQ(log->segment_count(), 1u);
  EXPECT_EQ(log->log_start_offset(), 40);
  EXPECT_EQ(log->log_end_offset(), 40);
  auto b = build_batch(1);
  EXPECT_EQ(log->append(b, 0, 1'000'001).base_offset, 40);
}

TEST(Retention, SizeKeepsTheNewestBytes) {
  TempDir tmp;
  auto config = small_segments();
  config.retention_bytes = 1000;
  auto log = open_log(tmp.path() + "/t-0", config);
  fill(*log);
  ASSERT_GT(log->size_bytes(), 1000);
  const auto bases = log->segment_base_offsets();
  ASSERT_GT(log->apply_retention(0), 0u);
  // As Kafka: a segment goes only if at least retention.bytes remain without it.
  EXPECT_GE(log->size_bytes(), 1000);
  EXPECT_LT(log->size_bytes() - 400, 1000);
  EXPECT_LT(log->segment_base_offsets().size(), bases.size());
}

TEST(Retention, NeverPastTheHighWatermarkAndOnlyWithDeletePolicy) {
  TempDir tmp;
  auto config = small_segments();
  config.retention_ms = 1;
  auto log = open_log(tmp.path() + "/t-0", config);
  fill(*log);
  config.cleanup_delete = false;
  config.cleanup_compact = true;
  log->update_config(config);
  EXPECT_EQ(log->apply_retention(1'000'000), 0u);  // compact only
  config.cleanup_delete = true;
  config.cleanup_compact = false;
  log->update_config(config);
  auto b = build_batch(2, 60, 1);
  log->append(b, 0, 1);  // not flushed: above the high watermark
  log->apply_retention(1'000'000);
  EXPECT_EQ(log->log_start_offset(), log->segment_base_offsets().front());
  EXPECT_LE(log->log_start_offset(), log->high_watermark());
}

TEST(Retention, DeleteRecordsMovesTheStartAndRetentionRemovesTheSegments) {
  TempDir tmp;
  auto log = open_log(tmp.path() + "/t-0", small_segments());
  fill(*log);
  const auto bases = log->segment_base_offsets();
  ASSERT_EQ(log->delete_records_before(bases[2] + 1), ErrorCode::kNone);
  EXPECT_EQ(log->log_start_offset(), bases[2] + 1);
  EXPECT_EQ(log->segment_count(), bases.size());  // only the offset moved (event loop)
  EXPECT_EQ(log->apply_retention(0), 2u);
  EXPECT_EQ(log->segment_base_offsets().front(), bases[2]);
  EXPECT_EQ(log->log_start_offset(), bases[2] + 1);
}

TEST(Retention, AReaderHoldingADeletedSegmentKeepsReading) {
  TempDir tmp;
  auto config = small_segments();
  config.retention_ms = 10;
  auto log = open_log(tmp.path() + "/t-0", config);
  fill(*log);
  // A read that started before the deletion holds the segment; it must still get whole batches.
  std::thread deleter([&] {
    log->apply_retention(1'000'000);
    log->delete_expired_files(0, /*force=*/true);
  });
  for (int i = 0; i < 200; ++i) {
    auto r = log->read(std::max<int64_t>(0, log->log_start_offset()), 1 << 16, INT64_MAX, true);
    ASSERT_TRUE(r.error == ErrorCode::kNone || r.error == ErrorCode::kOffsetOutOfRange);
    for_each_batch(r.bytes, [](const BatchHeader& h) { ASSERT_EQ(h.magic, 2); });
  }
  deleter.join();
}

TEST(Retention, LeftoverDeletedFilesAndTopicDirsGoAtStartup) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/t-0";
  {
    auto log = open_log(dir, small_segments());
    fill(*log);
    log->delete_records_before(200);
    log->delete_records_before(10);
    log->apply_retention(0);  // renamed .deleted, not yet unlinked
    log->close();
  }
  ASSERT_GT(count_files(dir, ".deleted"), 0u);
  fs::create_directories(tmp.path() + "/gone-0.abc-delete");
  LogManager manager;
  ASSERT_FALSE(manager.open({tmp.path()}, small_segments()));
  EXPECT_EQ(count_files(dir, ".deleted"), 0u);
  EXPECT_EQ(manager.remove_deleted_dirs(), 1u);
  EXPECT_FALSE(fs::exists(tmp.path() + "/gone-0.abc-delete"));
  manager.shutdown();
}

TEST(Retention, MaintenanceCheckpointsTheNewLogStart) {
  TempDir tmp;
  LogManager manager;
  auto config = small_segments();
  config.retention_ms = 10;
  ASSERT_FALSE(manager.open({tmp.path()}, config));
  ASSERT_EQ(manager.create_topic("t", 1, Uuid{}, config), ErrorCode::kNone);
  fill(*manager.get("t", 0));
  MaintenanceOptions options;
  options.retention_check_interval_ms = 1;
  LogMaintenance maintenance(manager, options);
  maintenance.run_due(1'000'000);
  maintenance.run_due(1'000'010);
  const int64_t start = manager.get("t", 0)->log_start_offset();
  EXPECT_GT(start, 0);
  std::string text;
  ASSERT_FALSE(read_whole_file(Env::posix(), tmp.path() + "/log-start-offset-checkpoint", text));
  EXPECT_NE(text.find("t 0 " + std::to_string(start)), std::string::npos) << text;
  manager.shutdown();
}

TEST(Retention, DeletedTopicDirIsRemovedInTheBackground) {
  TempDir tmp;
  LogManager manager;
  ASSERT_FALSE(manager.open({tmp.path()}, small_segments()));
  ASSERT_EQ(manager.create_topic("t", 2, Uuid{}), ErrorCode::kNone);
  ASSERT_EQ(manager.delete_topic("t"), ErrorCode::kNone);
  EXPECT_FALSE(fs::exists(tmp.path() + "/t-0"));
  EXPECT_EQ(manager.remove_deleted_dirs(), 2u);
  size_t left = 0;
  for (const auto& e : fs::directory_iterator(tmp.path())) left += e.is_directory();
  EXPECT_EQ(left, 0u);
  manager.shutdown();
}

TEST(ProducerIds, NeverReusedAcrossRestarts) {
  TempDir tmp;
  std::set<int64_t> seen;
  for (int run = 0; run < 3; ++run) {
    ProducerIdManager ids;
    ASSERT_FALSE(ids.open(Env::posix(), tmp.path()));
    for (int i = 0; i < 700; ++i) {
      if (ids.reservation_needed()) {
        ASSERT_FALSE(ids.reserve_next_block());
      }
      auto id = ids.allocate();
      ASSERT_TRUE(id.has_value());
      EXPECT_TRUE(seen.insert(*id).second) << *id;
    }
  }
  // Without the background reservation, a burst runs dry instead of reusing ids.
  ProducerIdManager ids;
  ASSERT_FALSE(ids.open(Env::posix(), tmp.path()));
  int got = 0;
  while (ids.allocate() && got < 5000) ++got;
  EXPECT_EQ(got, ProducerIdManager::kBlockSize);
}
