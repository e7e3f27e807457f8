// Log::truncate_to and Log::truncate_fully_and_start_at: the log, its files, its
// indexes, epochs and producer state afterwards and after restarts; readers
// holding slices across them.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "storage/log_cleaner.h"
#include "storage/segment.h"
#include "truncation_fixture.h"

using namespace runnel;
using namespace runnel::storage;
using namespace runnel::testing;
namespace fs = std::filesystem;

namespace {

using Entries = std::vector<EpochEntry>;

std::shared_ptr<Log> fixture_log(const std::string& dir) {
  auto log = open_log(dir, truncation_config());
  append_fixture(*log);
  log->flush();
  EXPECT_EQ(log->log_end_offset(), kFixtureEnd);
  EXPECT_GE(log->segment_count(), 4u);
  return log;
}

// The log holds exactly the fixture's offsets [0, end).
void expect_fixture_prefix(const Log& log, int64_t end) {
  EXPECT_EQ(log.log_start_offset(), 0);
  EXPECT_EQ(read_all(log), fixture_bytes(end));
  EXPECT_EQ(log.epoch_entries(), fixture_epochs(end));
  const auto producer = log.producer_entry(7);
  if (fixture_producer_last_offset(end) < 0) {
    EXPECT_FALSE(producer.has_value());
  } else {
    ASSERT_TRUE(producer.has_value());
    EXPECT_EQ(producer->batches.back().last_offset, fixture_producer_last_offset(end));
  }
  // Every offset below the end reads from its own batch (the indexes agree with the data).
  for (int64_t off = 0; off < end; ++off) {
    auto r = log.read(off, 1, INT64_MAX, true);
    ASSERT_EQ(r.error, ErrorCode::kNone);
    ASSERT_FALSE(r.bytes.empty()) << off;
    EXPECT_EQ(parse_batch_header(r.bytes).base_offset, off / 2 * 2) << off;
  }
}

// Every .index entry of every segment names an offset below the next segment's base.
void expect_indexes_bounded(const std::string& dir, const Log& log) {
  const auto bases = log.segment_base_offsets();
  for (size_t i = 0; i < bases.size(); ++i) {
    const int64_t bound = i + 1 < bases.size() ? bases[i + 1] : log.log_end_offset();
    for (int64_t offset : index_offsets(dir + "/" + Segment::file_name(bases[i], ".index"), bases[i]))
      EXPECT_LT(offset, bound) << "segment " << bases[i];
  }
}

// Reopens `dir` as after a crash (unclean) or a clean shutdown.
std::shared_ptr<Log> reopen(const std::string& dir, bool clean, int64_t recovery_point = 0) {
  return open_log(dir, truncation_config(), clean, nullptr, recovery_point);
}

}  // namespace

TEST(Truncation, ToABatchBoundaryInAnEarlierSegment) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/t-0";
  auto log = fixture_log(dir);
  const auto bases = log->segment_base_offsets();
  EXPECT_EQ(log->high_watermark(), kFixtureEnd);

  ASSERT_EQ(log->truncate_to(10), ErrorCode::kNone);
  EXPECT_EQ(log->log_end_offset(), 10);
  EXPECT_EQ(log->high_watermark(), 10);
  EXPECT_EQ(log->durable_offset(), 10);
  expect_fixture_prefix(*log, 10);
  EXPECT_EQ(log->epoch_entries(), (Entries{{1, 0}, {2, 8}}));
  EXPECT_EQ(log->end_offset_for_epoch(2), (EpochEndOffset{2, 10}));
  EXPECT_EQ(log->end_offset_for_epoch(4), (EpochEndOffset{-1, -1}));
  // The time index forgot the removed batches too (batch i's records carry 1000+i, 1001+i).
  EXPECT_FALSE(log->offset_for_timestamp(1006).has_value());
  EXPECT_EQ(log->offset_for_timestamp(1005), (RecordPosition{9, 1005}));
  EXPECT_EQ(log->offset_of_max_timestamp(), (RecordPosition{9, 1005}));
  auto r = log->read(10, 1 << 20, INT64_MAX, true);
  EXPECT_EQ(r.error, ErrorCode::kNone);
  EXPECT_TRUE(r.bytes.empty());
  EXPECT_EQ(log->read(11, 1 << 20, INT64_MAX, true).error, ErrorCode::kOffsetOutOfRange);
  // Files: every segment above the cut is *.deleted; no producer snapshot above it.
  for (int64_t base : bases) {
    if (base < 10) continue;
    EXPECT_FALSE(fs::exists(dir + "/" + Segment::file_name(base, ".log")) && base != 10) << base;
    EXPECT_TRUE(fs::exists(dir + "/" + Segment::file_name(base, ".log.deleted"))) << base;
  }
  for (int64_t offset : snapshot_offsets(dir)) EXPECT_LE(offset, 10);
  EXPECT_EQ(log->segment_base_offsets().back(), 10);  // appends go to a fresh segment
  EXPECT_EQ(log->delete_expired_files(0, /*force=*/true), static_cast<size_t>(std::count_if(
                                                              bases.begin(), bases.end(), [](int64_t b) { return b >= 10; })));
  EXPECT_TRUE(files_with_suffix(dir, ".deleted").empty());

  // The new leader's data continues at 10, with its epoch.
  auto b = build_batch(3, 40);
  ASSERT_EQ(log->append(b, 5, 20'000).base_offset, 10);
  EXPECT_EQ(log->epoch_entries(), (Entries{{1, 0}, {2, 8}, {5, 10}}));
  const LogPicture after = picture(*log);
  log->flush();
  log.reset();  // crash
  log = reopen(dir, false);
  EXPECT_EQ(picture(*log), after) << dump(picture(*log));
  log->close();
  expect_indexes_bounded(dir, *log);
  log = reopen(dir, true, 13);
  EXPECT_EQ(picture(*log), after) << dump(picture(*log));
}

TEST(Truncation, AtASegmentBaseReusesThePreviousSegment) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/t-0";
  auto log = fixture_log(dir);
  const int64_t base = log->segment_base_offsets()[1];
  ASSERT_EQ(base % 2, 0);
  const size_t segments = log->segment_count();
  ASSERT_EQ(log->truncate_to(base), ErrorCode::kNone);
  EXPECT_EQ(log->segment_count(), 1u);  // nothing was cut: the first segment is active again
  expect_fixture_prefix(*log, base);
  EXPECT_FALSE(fs::exists(dir + "/" + Segment::file_name(base, ".log")));
  EXPECT_EQ(files_with_suffix(dir, ".log.deleted").size(), segments - 1);
  // Leader appends go into the old first segment (its indexes preallocated again).
  for (int i = 0; i < 3; ++i) {
    auto b = build_batch(2, 40);
    ASSERT_EQ(log->append(b, 6, 20'000).error, ErrorCode::kNone);
  }
  const LogPicture after = picture(*log);
  log.reset();
  log = reopen(dir, false);
  EXPECT_EQ(picture(*log), after);
}

TEST(Truncation, InsideTheActiveSegment) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/t-0";
  auto log = fixture_log(dir);
  const int64_t active = log->segment_base_offsets().back();
  ASSERT_LT(active, 22);
  ASSERT_EQ(log->truncate_to(22), ErrorCode::kNone);
  expect_fixture_prefix(*log, 22);
  EXPECT_EQ(log->segment_base_offsets().back(), 22);
  // Following again from the new leader, then restarts.
  ASSERT_EQ(log->append_as_follower(leader_batch({22, 4, 9}), 30'000).error, ErrorCode::kNone);
  EXPECT_EQ(log->epoch_entries(), (Entries{{1, 0}, {2, 8}, {4, 16}, {9, 22}}));
  const LogPicture after = picture(*log);
  log->close();
  expect_indexes_bounded(dir, *log);
  log = reopen(dir, true, 26);
  EXPECT_EQ(picture(*log), after);
  log.reset();
  log = reopen(dir, false);
  EXPECT_EQ(picture(*log), after);
}

TEST(Truncation, RepeatedTruncationsOfOneSegment) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/t-0";
  auto log = fixture_log(dir);
  const int64_t first_end = log->segment_base_offsets()[1];
  ASSERT_GE(first_end, 6);
  ASSERT_EQ(log->truncate_to(first_end - 2), ErrorCode::kNone);
  ASSERT_EQ(log->truncate_to(first_end - 4), ErrorCode::kNone);  // the cut segment again
  expect_fixture_prefix(*log, first_end - 4);
  // Its old bytes are still in its file, so appends go to the newest segment, never there.
  ASSERT_EQ(log->append_as_follower(fixture_batch(static_cast<int>(first_end - 4) / 2), 0).error, ErrorCode::kNone);
  expect_fixture_prefix(*log, first_end - 2);
  const LogPicture after = picture(*log);
  log.reset();
  log = reopen(dir, false);
  EXPECT_EQ(picture(*log), after);
}

TEST(Truncation, MidBatchRemovesTheWholeBatch) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/t-0";
  auto log = fixture_log(dir);
  ASSERT_EQ(log->truncate_to(11), ErrorCode::kNone);
  // The log end is the requested offset (as Kafka), the batch [10, 11] is gone.
  EXPECT_EQ(log->log_end_offset(), 11);
  EXPECT_EQ(read_all(*log), fixture_bytes(10));
  EXPECT_EQ(log->producer_entry(7)->batches.back().last_offset, 5);
  log.reset();
  // After a restart the end is that of the last whole batch.
  log = reopen(dir, false);
  expect_fixture_prefix(*log, 10);
  EXPECT_EQ(log->log_end_offset(), 10);
}

TEST(Truncation, NoOpsAndBadInput) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/t-0";
  auto log = fixture_log(dir);
  const LogPicture before = picture(*log);
  EXPECT_EQ(log->truncate_to(kFixtureEnd), ErrorCode::kNone);
  EXPECT_EQ(log->truncate_to(kFixtureEnd + 100), ErrorCode::kNone);
  EXPECT_EQ(picture(*log), before);
  EXPECT_EQ(log->truncate_to(-1), ErrorCode::kInvalidRequest);
  EXPECT_EQ(log->truncate_fully_and_start_at(-1), ErrorCode::kInvalidRequest);
  EXPECT_EQ(picture(*log), before);
  log->close();
  EXPECT_EQ(log->truncate_to(4), ErrorCode::kKafkaStorageError);
  EXPECT_EQ(log->truncate_fully_and_start_at(4), ErrorCode::kKafkaStorageError);
}

TEST(Truncation, AtOrBelowTheLogStartTruncatesFully) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/t-0";
  auto log = fixture_log(dir);
  ASSERT_EQ(log->delete_records_before(6), ErrorCode::kNone);
  ASSERT_EQ(log->truncate_to(6), ErrorCode::kNone);
  EXPECT_EQ(log->log_start_offset(), 6);
  EXPECT_EQ(log->log_end_offset(), 6);
  EXPECT_EQ(log->segment_base_offsets(), (std::vector<int64_t>{6}));
  ASSERT_EQ(log->truncate_to(3), ErrorCode::kNone);  // below the log start: it follows
  EXPECT_EQ(log->log_start_offset(), 3);
  EXPECT_EQ(log->log_end_offset(), 3);
  EXPECT_EQ(log->segment_base_offsets(), (std::vector<int64_t>{3}));
}

TEST(Truncation, FullyAndStartAt) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/t-0";
  auto log = fixture_log(dir);
  ASSERT_TRUE(log->producer_entry(7).has_value());
  ASSERT_EQ(log->truncate_fully_and_start_at(100), ErrorCode::kNone);
  EXPECT_EQ(log->log_start_offset(), 100);
  EXPECT_EQ(log->log_end_offset(), 100);
  EXPECT_EQ(log->high_watermark(), 100);
  EXPECT_EQ(log->durable_offset(), 100);
  EXPECT_TRUE(log->epoch_entries().empty());
  EXPECT_FALSE(log->producer_entry(7).has_value());
  EXPECT_TRUE(snapshot_offsets(dir).empty());
  EXPECT_EQ(files_with_suffix(dir, ".log"), (std::vector<std::string>{Segment::file_name(100, ".log")}));
  std::string text;
  ASSERT_FALSE(read_whole_file(Env::posix(), dir + "/" + kLeaderEpochCheckpointFile, text));
  EXPECT_EQ(text, "0\n0\n");
  EXPECT_EQ(log->read(99, 100, INT64_MAX, true).error, ErrorCode::kOffsetOutOfRange);
  EXPECT_TRUE(log->read(100, 100, INT64_MAX, true).bytes.empty());

  ASSERT_EQ(log->append_as_follower(leader_batch({100, 2, 8, 7, 1, 0}), 0).error, ErrorCode::kNone);
  EXPECT_EQ(log->epoch_entries(), (Entries{{8, 100}}));
  const LogPicture after = picture(*log);
  log.reset();
  log = reopen(dir, false);  // no log-start checkpoint: the first segment's base
  EXPECT_EQ(picture(*log), after);
  EXPECT_EQ(log->producer_entry(7)->batches.back().first_offset, 100);
}

TEST(Truncation, FullyAtTheFirstSegmentsOwnBase) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/t-0";
  auto log = fixture_log(dir);
  ASSERT_EQ(log->truncate_fully_and_start_at(0), ErrorCode::kNone);  // the same file name as the old first segment
  EXPECT_EQ(log->log_end_offset(), 0);
  EXPECT_TRUE(read_all(*log).empty());
  append_fixture(*log, 0, 3);
  expect_fixture_prefix(*log, 6);
  log->close();
  log = reopen(dir, true, 6);
  expect_fixture_prefix(*log, 6);
}

TEST(Truncation, FollowsHighWatermarkInCallerManagedMode) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/t-0";
  auto log = open_follower_log(dir, truncation_config(), false, nullptr, 0, /*hw_follows_flush=*/false);
  append_fixture(*log);
  EXPECT_EQ(log->set_high_watermark(20), 20);
  EXPECT_EQ(log->durable_offset(), 0);  // nothing flushed
  ASSERT_EQ(log->truncate_to(16), ErrorCode::kNone);
  EXPECT_EQ(log->high_watermark(), 16);
  ASSERT_EQ(log->truncate_to(18), ErrorCode::kNone);  // above the end now: nothing
  EXPECT_EQ(log->high_watermark(), 16);
  log->flush();
  EXPECT_EQ(log->durable_offset(), 16);
  ASSERT_EQ(log->truncate_fully_and_start_at(40), ErrorCode::kNone);
  EXPECT_EQ(log->high_watermark(), 40);
}

TEST(Truncation, ReadersKeepTheirSlices) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/t-0";
  auto log = fixture_log(dir);
  const auto slices = log->read_slices(0, INT32_MAX, INT64_MAX, true);
  ASSERT_EQ(slices.error, ErrorCode::kNone);
  ASSERT_GE(slices.slices.size(), 4u);
  const auto expected = fixture_bytes(kFixtureEnd);

  // What a sendfile of the slices would send, read through their descriptors.
  auto read_slices = [&] {
    std::vector<uint8_t> out;
    for (const auto& s : slices.slices) {
      std::vector<uint8_t> buf(static_cast<size_t>(s.length));
      EXPECT_EQ(::pread(s.fd, buf.data(), buf.size(), s.position), static_cast<ssize_t>(buf.size()));
      out.insert(out.end(), buf.begin(), buf.end());
    }
    return out;
  };
  ASSERT_EQ(read_slices(), expected);
  ASSERT_EQ(log->truncate_to(11), ErrorCode::kNone);  // cuts a segment mid-way, removes the later ones
  // New data lands after the cut, in a new segment, never over the bytes readers hold.
  ASSERT_EQ(log->append_as_follower(leader_batch({11, 6, 9, -1, -1, -1, 100}), 0).error, ErrorCode::kNone);
  log->delete_expired_files(0, /*force=*/true);  // the removed segments' names are gone too
  EXPECT_EQ(read_slices(), expected);
  ASSERT_EQ(log->truncate_fully_and_start_at(500), ErrorCode::kNone);
  log->delete_expired_files(0, true);
  EXPECT_EQ(read_slices(), expected);
}

TEST(Truncation, ARolledButUnsyncedCutSegmentIsSyncedByTheNextFlush) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/t-0";
  auto log = open_log(dir, truncation_config());
  append_fixture(*log);  // no flush: nothing durable yet
  EXPECT_EQ(log->durable_offset(), 0);
  ASSERT_EQ(log->truncate_to(14), ErrorCode::kNone);
  EXPECT_EQ(log->flush(), 14);
  EXPECT_EQ(log->high_watermark(), 14);
  const LogPicture after = picture(*log);
  log.reset();
  log = reopen(dir, false, 14);
  EXPECT_EQ(picture(*log), after);
}

TEST(Truncation, TheCleanerNeverCarriesTheCutBytes) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/t-0";
  LogConfig config = truncation_config();
  config.cleanup_compact = true;
  config.cleanup_delete = false;
  config.min_cleanable_dirty_ratio = 0;
  auto log = open_log(dir, config);
  append_fixture(*log);
  ASSERT_EQ(log->truncate_to(10), ErrorCode::kNone);  // the segment at 6 keeps bytes past its end
  append_fixture(*log, 5, 12);                         // the same batches again, from the new leader
  log->flush();
  const auto result = LogCleaner::clean(*log, 1'000'000, /*force=*/true);
  ASSERT_TRUE(result.cleaned);
  expect_fixture_prefix(*log, kFixtureEnd);  // every key is unique: everything is kept
  const LogPicture after = picture(*log);
  log.reset();
  log = open_log(dir, config);
  EXPECT_EQ(picture(*log), after) << dump(picture(*log));
}

TEST(Truncation, ConcurrentReadersFlushesAndTruncations) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/t-0";
  auto log = fixture_log(dir);
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::thread reader([&] {
    while (!stop) {
      const int64_t start = log->log_start_offset();
      auto r = log->read(start, INT32_MAX, INT64_MAX, true);
      if (r.error != ErrorCode::kNone && r.error != ErrorCode::kOffsetOutOfRange) ++bad;
      // Whatever was read is a run of the fixture's whole batches, from the log start.
      const auto expected = fixture_bytes(kFixtureEnd);
      if (r.error == ErrorCode::kNone && start == 0 &&
          (r.bytes.size() > expected.size() || !std::equal(r.bytes.begin(), r.bytes.end(), expected.begin())))
        ++bad;
      (void)log->end_offset_for_epoch(2);
      (void)log->high_watermark();
    }
  });
  std::thread flusher([&] {
    while (!stop) log->flush();
  });
  for (int round = 0; round < 20; ++round) {
    const int64_t cut = 2 * (round % 11 + 1);
    ASSERT_EQ(log->truncate_to(cut), ErrorCode::kNone);
    append_fixture(*log, static_cast<int>(cut / 2), 12);
  }
  stop = true;
  reader.join();
  flusher.join();
  EXPECT_EQ(bad.load(), 0);
  expect_fixture_prefix(*log, kFixtureEnd);
  log->flush();
  const LogPicture after = picture(*log);
  log.reset();
  log = reopen(dir, false);
  EXPECT_EQ(picture(*log), after);
}
