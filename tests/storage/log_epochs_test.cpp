// The leader epoch cache as a Log keeps it: leader appends, OffsetForLeaderEpoch,
// and the leader-epoch-checkpoint file across restarts (missing, malformed, stale).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "replication_util.h"
#include "storage/log.h"

using namespace runnel;
using namespace runnel::storage;
using namespace runnel::testing;
namespace fs = std::filesystem;

namespace {

using Entries = std::vector<EpochEntry>;

LogConfig small_segments() {
  LogConfig config;
  config.segment_bytes = 500;
  config.index_interval_bytes = 100;
  return config;
}

void append_as_leader(Log& log, int batches, int32_t epoch) {
  for (int i = 0; i < batches; ++i) {
    auto b = build_batch(2, 40);
    ASSERT_EQ(log.append(b, epoch, 5000).error, ErrorCode::kNone);
  }
}

std::string checkpoint_path(const std::string& dir) { return dir + "/" + kLeaderEpochCheckpointFile; }

std::string read_text(const std::string& path) {
  std::string text;
  EXPECT_FALSE(read_whole_file(Env::posix(), path, text));
  return text;
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
}

}  // namespace

TEST(LogEpochs, LeaderAppendsRecordNewEpochsOnly) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/t-0";
  auto log = open_log(dir);
  EXPECT_EQ(log->latest_epoch(), -1);
  EXPECT_FALSE(fs::exists(checkpoint_path(dir)));  // nothing to say yet: no file
  append_as_leader(*log, 2, 0);  // offsets 0..3
  append_as_leader(*log, 1, 3);  // 4..5
  append_as_leader(*log, 1, 3);
  append_as_leader(*log, 1, 1);  // a stale leader's epoch: not recorded
  append_as_leader(*log, 1, -1);  // no epoch: not recorded
  EXPECT_EQ(log->epoch_entries(), (Entries{{0, 0}, {3, 4}}));
  EXPECT_EQ(read_text(checkpoint_path(dir)), "0\n2\n0 0\n3 4\n");
  append_as_leader(*log, 1, 5);  // 12..13
  EXPECT_EQ(log->epoch_entries(), (Entries{{0, 0}, {3, 4}, {5, 12}}));
  EXPECT_EQ(log->end_offset_for_epoch(0), (EpochEndOffset{0, 4}));
  EXPECT_EQ(log->end_offset_for_epoch(3), (EpochEndOffset{3, 12}));
  EXPECT_EQ(log->end_offset_for_epoch(4), (EpochEndOffset{3, 12}));
  EXPECT_EQ(log->end_offset_for_epoch(5), (EpochEndOffset{5, 14}));
  EXPECT_EQ(log->end_offset_for_epoch(6), (EpochEndOffset{-1, -1}));
  EXPECT_EQ(log->end_offset_for_epoch(-1), (EpochEndOffset{-1, -1}));
}

TEST(LogEpochs, SurviveCleanAndUncleanRestarts) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/t-0";
  {
    auto log = open_log(dir, small_segments());
    append_as_leader(*log, 3, 1);
    append_as_leader(*log, 3, 2);
    log->close();
  }
  auto log = open_log(dir, small_segments(), /*clean_shutdown=*/true, nullptr, 12);
  EXPECT_EQ(log->epoch_entries(), (Entries{{1, 0}, {2, 6}}));
  append_as_leader(*log, 1, 7);
  log.reset();  // crash
  log = open_log(dir, small_segments());
  EXPECT_EQ(log->epoch_entries(), (Entries{{1, 0}, {2, 6}, {7, 12}}));
}

TEST(LogEpochs, MissingFileIsRebuiltFromTheBatches) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/t-0";
  {
    auto log = open_log(dir, small_segments());
    append_as_leader(*log, 4, 0);
    append_as_leader(*log, 4, 2);
    append_as_leader(*log, 4, 9);
    EXPECT_GT(log->segment_count(), 2u);
    log->close();
  }
  fs::remove(checkpoint_path(dir));  // e.g. a log written before epochs were kept
  auto log = open_log(dir, small_segments(), /*clean_shutdown=*/true, nullptr, 24);
  EXPECT_EQ(log->epoch_entries(), (Entries{{0, 0}, {2, 8}, {9, 16}}));
  EXPECT_EQ(read_text(checkpoint_path(dir)), "0\n3\n0 0\n2 8\n9 16\n");
}

TEST(LogEpochs, MalformedFileIsRebuiltAndRewritten) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/t-0";
  {
    auto log = open_log(dir);
    append_as_leader(*log, 2, 4);
    log->close();
  }
  for (const char* bad : {"garbage", "0\n2\n4 0\n", "1\n1\n4 0\n", "0\n1\n-4 0\n"}) {
    write_text(checkpoint_path(dir), bad);
    auto log = open_log(dir, {}, /*clean_shutdown=*/true, nullptr, 4);
    EXPECT_EQ(log->epoch_entries(), (Entries{{4, 0}})) << bad;
    EXPECT_EQ(read_text(checkpoint_path(dir)), "0\n1\n4 0\n") << bad;
    log->close();
  }
  // An empty file (Kafka creates one empty) is the same as none.
  write_text(checkpoint_path(dir), "");
  auto log = open_log(dir, {}, true, nullptr, 4);
  EXPECT_EQ(log->epoch_entries(), (Entries{{4, 0}}));
}

TEST(LogEpochs, EntriesPastTheRecoveredEndAreCut) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/t-0";
  {
    auto log = open_log(dir);
    append_as_leader(*log, 2, 1);
    log->close();
  }
  // Entries whose data recovery did not find (e.g. a torn tail): cut to the log end.
  write_text(checkpoint_path(dir), "0\n3\n1 0\n2 4\n3 9\n");
  auto log = open_log(dir, {}, true, nullptr, 4);
  EXPECT_EQ(log->epoch_entries(), (Entries{{1, 0}}));
  EXPECT_EQ(read_text(checkpoint_path(dir)), "0\n1\n1 0\n");
}

TEST(LogEpochs, RecoveryFindsEpochsTheFileMissed) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/t-0";
  {
    auto log = open_log(dir);
    append_as_leader(*log, 2, 1);
    append_as_leader(*log, 2, 3);
    // crash, with the file as if written before epoch 3's entry
  }
  write_text(checkpoint_path(dir), "0\n1\n1 0\n");
  auto log = open_log(dir);  // unclean: the segment is scanned and its epochs seen
  EXPECT_EQ(log->epoch_entries(), (Entries{{1, 0}, {3, 4}}));
  EXPECT_EQ(read_text(checkpoint_path(dir)), "0\n2\n1 0\n3 4\n");
}

TEST(LogEpochs, LogStartMovesTheFirstEntry) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/t-0";
  auto log = open_log(dir);
  append_as_leader(*log, 2, 1);  // 0..3
  append_as_leader(*log, 2, 2);  // 4..7
  log->flush();
  ASSERT_EQ(log->delete_records_before(5), ErrorCode::kNone);
  EXPECT_EQ(log->epoch_entries(), (Entries{{2, 5}}));
  EXPECT_EQ(read_text(checkpoint_path(dir)), "0\n1\n2 5\n");
  EXPECT_EQ(log->end_offset_for_epoch(1), (EpochEndOffset{1, 5}));  // below every entry
  log->close();
  // At open the checkpointed log start cuts the cache the same way.
  write_text(checkpoint_path(dir), "0\n2\n1 0\n2 4\n");
  LogOpenOptions options;
  options.dir = dir;
  options.clean_shutdown = true;
  options.recovery_point = 8;
  options.log_start_offset = 6;
  std::error_code ec;
  log = Log::open(options, ec);
  ASSERT_TRUE(log);
  EXPECT_EQ(log->epoch_entries(), (Entries{{2, 6}}));
}

TEST(LogEpochs, AFailedWriteIsRetriedByFlushAndTakesTheLogOfflineIfItPersists) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/t-0";
  fs::create_directories(dir);
  // A directory where the tmp file should go makes every checkpoint write fail.
  fs::create_directory(checkpoint_path(dir) + ".tmp");
  auto log = open_log(dir);
  append_as_leader(*log, 1, 2);  // the append itself succeeds; the epoch is in memory
  EXPECT_EQ(log->epoch_entries(), (Entries{{2, 0}}));
  EXPECT_FALSE(fs::exists(checkpoint_path(dir)));
  log->flush();
  EXPECT_TRUE(log->failed());
  EXPECT_EQ(log->high_watermark(), 0);  // nothing became durable without its epoch
}
