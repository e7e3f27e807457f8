// LeaderEpochCache alone: Kafka's assign / endOffsetFor / truncation semantics and
// the leader-epoch-checkpoint file.
#include "storage/leader_epoch_cache.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "fault_env.h"
#include "test_util.h"

using namespace runnel;
using namespace runnel::storage;
using namespace runnel::testing;

namespace {

using Entries = std::vector<EpochEntry>;

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

TEST(LeaderEpochCache, AssignAppendsNewEpochsAndIgnoresRepeats) {
  TempDir tmp;
  LeaderEpochCache cache(Env::posix(), tmp.path());
  EXPECT_EQ(cache.latest_epoch(), -1);
  EXPECT_FALSE(cache.latest_entry().has_value());
  EXPECT_TRUE(cache.assign(2, 10));
  EXPECT_FALSE(cache.assign(2, 10));  // equal (epoch, offset): ignored
  EXPECT_FALSE(cache.assign(2, 15));  // the same epoch continuing: ignored
  EXPECT_TRUE(cache.assign(4, 20));
  EXPECT_EQ(cache.entries(), (Entries{{2, 10}, {4, 20}}));
  EXPECT_EQ(cache.latest_epoch(), 4);
  EXPECT_EQ(cache.latest_entry(), (EpochEntry{4, 20}));
}

TEST(LeaderEpochCache, AssignRemovesConflictingEntries) {
  TempDir tmp;
  LeaderEpochCache cache(Env::posix(), tmp.path());
  cache.assign(1, 0);
  cache.assign(3, 10);
  cache.assign(5, 20);
  // Same epoch at a lower offset (Kafka: start < latest start needs an update).
  EXPECT_TRUE(cache.assign(5, 15));
  EXPECT_EQ(cache.entries(), (Entries{{1, 0}, {3, 10}, {5, 15}}));
  // A higher epoch whose start offset is not above the entries': they go.
  EXPECT_TRUE(cache.assign(6, 10));
  EXPECT_EQ(cache.entries(), (Entries{{1, 0}, {6, 10}}));
  // A lower epoch than the latest: every entry with epoch >= it goes, as in Kafka.
  EXPECT_TRUE(cache.assign(2, 30));
  EXPECT_EQ(cache.entries(), (Entries{{1, 0}, {2, 30}}));
  // Everything conflicts.
  EXPECT_TRUE(cache.assign(0, 0));
  EXPECT_EQ(cache.entries(), (Entries{{0, 0}}));
}

TEST(LeaderEpochCache, AssignRefusesNegativeValues) {
  TempDir tmp;
  LeaderEpochCache cache(Env::posix(), tmp.path());
  EXPECT_FALSE(cache.assign(-1, 0));
  EXPECT_FALSE(cache.assign(0, -5));
  EXPECT_TRUE(cache.empty());
}

TEST(LeaderEpochCache, EndOffsetForEveryCase) {
  TempDir tmp;
  LeaderEpochCache cache(Env::posix(), tmp.path());
  // Empty: everything undefined.
  EXPECT_EQ(cache.end_offset_for(-1, 100), (EpochEndOffset{-1, -1}));
  EXPECT_EQ(cache.end_offset_for(0, 100), (EpochEndOffset{-1, -1}));
  cache.assign(2, 10);
  cache.assign(4, 20);
  cache.assign(7, 35);
  // An undefined request.
  EXPECT_EQ(cache.end_offset_for(-1, 50), (EpochEndOffset{-1, -1}));
  // The latest epoch ends at the log end.
  EXPECT_EQ(cache.end_offset_for(7, 50), (EpochEndOffset{7, 50}));
  // Above the latest: undefined.
  EXPECT_EQ(cache.end_offset_for(8, 50), (EpochEndOffset{-1, -1}));
  // A known epoch ends where the next starts.
  EXPECT_EQ(cache.end_offset_for(2, 50), (EpochEndOffset{2, 20}));
  EXPECT_EQ(cache.end_offset_for(4, 50), (EpochEndOffset{4, 35}));
  // An unknown epoch between known ones: the floor epoch, ending where the next higher starts.
  EXPECT_EQ(cache.end_offset_for(3, 50), (EpochEndOffset{2, 20}));
  EXPECT_EQ(cache.end_offset_for(6, 50), (EpochEndOffset{4, 35}));
  // Below every entry: the requested epoch with the first start offset.
  EXPECT_EQ(cache.end_offset_for(1, 50), (EpochEndOffset{1, 10}));
  EXPECT_EQ(cache.end_offset_for(0, 50), (EpochEndOffset{0, 10}));
  // Another negative epoch is not "undefined": it is below every entry.
  EXPECT_EQ(cache.end_offset_for(-3, 50), (EpochEndOffset{-3, 10}));
}

TEST(LeaderEpochCache, TruncateFromEnd) {
  TempDir tmp;
  LeaderEpochCache cache(Env::posix(), tmp.path());
  cache.assign(1, 0);
  cache.assign(2, 10);
  cache.assign(3, 20);
  EXPECT_FALSE(cache.truncate_from_end(25));  // nothing starts at or after 25
  EXPECT_FALSE(cache.truncate_from_end(-1));  // ignored, as Kafka
  EXPECT_TRUE(cache.truncate_from_end(20));   // an entry starting exactly there goes
  EXPECT_EQ(cache.entries(), (Entries{{1, 0}, {2, 10}}));
  EXPECT_TRUE(cache.truncate_from_end(5));
  EXPECT_EQ(cache.entries(), (Entries{{1, 0}}));
  EXPECT_TRUE(cache.truncate_from_end(0));
  EXPECT_TRUE(cache.empty());
}

TEST(LeaderEpochCache, TruncateFromStart) {
  TempDir tmp;
  LeaderEpochCache cache(Env::posix(), tmp.path());
  EXPECT_FALSE(cache.truncate_from_start(10));  // empty
  cache.assign(1, 5);
  cache.assign(2, 10);
  cache.assign(3, 20);
  EXPECT_FALSE(cache.truncate_from_start(3));  // wholly above: nothing changes
  EXPECT_FALSE(cache.truncate_from_start(5));  // already starting there
  // The last entry at or below the new start moves up to it; older ones go.
  EXPECT_TRUE(cache.truncate_from_start(15));
  EXPECT_EQ(cache.entries(), (Entries{{2, 15}, {3, 20}}));
  // An entry starting exactly at the new start is kept (Kafka: exclusive).
  EXPECT_TRUE(cache.truncate_from_start(20));
  EXPECT_EQ(cache.entries(), (Entries{{3, 20}}));
  EXPECT_TRUE(cache.truncate_from_start(100));
  EXPECT_EQ(cache.entries(), (Entries{{3, 100}}));
  EXPECT_TRUE(cache.clear());
  EXPECT_FALSE(cache.clear());
}

TEST(LeaderEpochCache, FileFormatRoundTrip) {
  TempDir tmp;
  const std::string path = tmp.path() + "/" + kLeaderEpochCheckpointFile;
  {
    LeaderEpochCache cache(Env::posix(), tmp.path());
    EXPECT_EQ(cache.load(), LeaderEpochCache::LoadState::kMissing);
    EXPECT_FALSE(cache.persist());  // nothing changed: nothing written
    EXPECT_FALSE(std::filesystem::exists(path));
    cache.assign(0, 0);
    cache.assign(3, 1234567890123);
    ASSERT_FALSE(cache.persist());
    EXPECT_EQ(read_text(path), "0\n2\n0 0\n3 1234567890123\n");
    EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  }
  LeaderEpochCache cache(Env::posix(), tmp.path());
  EXPECT_EQ(cache.load(), LeaderEpochCache::LoadState::kOk);
  EXPECT_EQ(cache.entries(), (Entries{{0, 0}, {3, 1234567890123}}));
  cache.truncate_from_end(1);
  ASSERT_FALSE(cache.persist());
  EXPECT_EQ(read_text(path), "0\n1\n0 0\n");
  cache.clear();
  ASSERT_FALSE(cache.persist());
  EXPECT_EQ(read_text(path), "0\n0\n");
  EXPECT_EQ(cache.load(), LeaderEpochCache::LoadState::kOk);
  EXPECT_TRUE(cache.empty());
}

TEST(LeaderEpochCache, ParseAcceptsKafkaFilesOnly) {
  EXPECT_EQ(LeaderEpochCache::parse("0\n0\n"), Entries{});
  EXPECT_EQ(LeaderEpochCache::parse("0\n2\n1 5\n4\t\t9\n"), (Entries{{1, 5}, {4, 9}}));
  EXPECT_EQ(LeaderEpochCache::parse("0\r\n1\r\n1 5\r\n"), (Entries{{1, 5}}));
  EXPECT_EQ(LeaderEpochCache::parse("0\n1\n1 5"), (Entries{{1, 5}}));  // no final newline
  for (const char* bad : {"", "1\n0\n", "0\n", "0\nx\n", "0\n2\n1 5\n", "0\n1\n1 5\n2 6\n", "0\n1\n1\n",
                          "0\n1\n1 5 7\n", "0\n1\na 5\n", "0\n1\n1 5x\n", "0\n1\n-1 5\n", "0\n1\n1 -5\n",
                          "0\n1\n\n", "0\n1\n1 5\n\n", "0\n-1\n", "0\n1\n99999999999 5\n"}) {
    EXPECT_FALSE(LeaderEpochCache::parse(bad).has_value()) << "'" << bad << "'";
  }
}

TEST(LeaderEpochCache, LoadMalformedAndEmptyFiles) {
  TempDir tmp;
  const std::string path = tmp.path() + "/" + kLeaderEpochCheckpointFile;
  LeaderEpochCache cache(Env::posix(), tmp.path());
  write_text(path, "garbage\n");
  EXPECT_EQ(cache.load(), LeaderEpochCache::LoadState::kMalformed);
  EXPECT_TRUE(cache.empty());
  // A forced write replaces the malformed file even with nothing to say.
  ASSERT_FALSE(cache.persist(/*force=*/true));
  EXPECT_EQ(read_text(path), "0\n0\n");
  write_text(path, "");  // Kafka creates the file empty
  EXPECT_EQ(cache.load(), LeaderEpochCache::LoadState::kMissing);
  // Out-of-order lines resolve as assign would, and the file is rewritten at the next persist.
  write_text(path, "0\n3\n1 0\n5 100\n3 50\n");
  EXPECT_EQ(cache.load(), LeaderEpochCache::LoadState::kOk);
  EXPECT_EQ(cache.entries(), (Entries{{1, 0}, {3, 50}}));
  ASSERT_FALSE(cache.persist());
  EXPECT_EQ(read_text(path), "0\n2\n1 0\n3 50\n");
}

TEST(LeaderEpochCache, FailedWriteStaysDirtyAndIsRetried) {
  TempDir tmp;
  FaultEnv env;
  LeaderEpochCache cache(env, tmp.path());
  cache.assign(1, 0);
  env.fail_sync = true;
  EXPECT_TRUE(cache.persist());  // fails
  env.fail_sync = false;
  ASSERT_FALSE(cache.persist());  // still dirty: written now
  EXPECT_EQ(read_text(tmp.path() + "/" + kLeaderEpochCheckpointFile), "0\n1\n1 0\n");
}
