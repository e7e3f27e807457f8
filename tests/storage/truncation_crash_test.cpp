// Crash safety of the truncations: the fault Env stops every file-system change
// after N of them (a crash at that point), for every N until the truncation
// completes; the dir is then reopened as after a crash. It must open cleanly and
// hold either a prefix of the old log (the call had not returned) or exactly the
// truncated log; once the call returned, nothing above the cut ever comes back.
#include <gtest/gtest.h>

#include <algorithm>

#include "fault_env.h"
#include "storage/segment.h"
#include "truncation_fixture.h"

using namespace runnel;
using namespace runnel::storage;
using namespace runnel::testing;

namespace {

// An Env that writes like the real one but never waits for the disk.
FaultEnv& no_sync_env() {
  static FaultEnv env;
  env.skip_sync = true;
  return env;
}

// The fixture is built once per test and copied for every simulated crash.
void build_fixture(const std::string& dir) {
  static TempDir templates;
  const std::string built = templates.path() + "/t-0";
  if (!std::filesystem::exists(built)) {
    auto log = open_log(built, truncation_config(), false, &no_sync_env());
    append_fixture(*log);
    log->close();
  }
  std::filesystem::copy(built, dir);
}

// A consistent log holding the fixture's offsets [0, end) for some end >= min_end.
void expect_consistent_prefix(const Log& log, int64_t min_end, const std::string& context) {
  const int64_t end = log.log_end_offset();
  EXPECT_GE(end, min_end) << context;
  EXPECT_EQ(end % 2, 0) << context;
  EXPECT_EQ(log.log_start_offset(), 0) << context;
  EXPECT_EQ(read_all(log), fixture_bytes(end)) << context;
  EXPECT_EQ(log.epoch_entries(), fixture_epochs(end)) << context;
  const auto producer = log.producer_entry(7);
  EXPECT_EQ(producer ? producer->batches.back().last_offset : -1, fixture_producer_last_offset(end)) << context;
}

}  // namespace

TEST(TruncationCrash, TruncateToAtEveryStep) {
  for (const int64_t recovery_point : {int64_t{0}, kFixtureEnd}) {
    bool completed = false;
    for (int64_t budget = 0; !completed && budget < 200; ++budget) {
      const std::string context = "recovery point " + std::to_string(recovery_point) + ", crash after " +
                                  std::to_string(budget) + " changes";
      TempDir tmp;
      const std::string dir = tmp.path() + "/t-0";
      build_fixture(dir);
      {
        FaultEnv env;
        env.skip_sync = true;
        auto log = open_log(dir, truncation_config(), /*clean_shutdown=*/true, &env, kFixtureEnd);
        env.ops_budget = budget;
        completed = log->truncate_to(10) == ErrorCode::kNone;
        EXPECT_EQ(log->failed(), !completed) << context;
      }  // crash: nothing flushed or closed
      auto log = open_log(dir, truncation_config(), /*clean_shutdown=*/false, &no_sync_env(), recovery_point);
      ASSERT_TRUE(log) << context;
      if (completed) {
        EXPECT_EQ(log->log_end_offset(), 10) << context;
      }
      expect_consistent_prefix(*log, 10, context);
    }
    EXPECT_TRUE(completed);
  }
}

TEST(TruncationCrash, NothingAboveTheCutComesBackAfterItReturned) {
  for (const int batches_after : {0, 1, 4}) {
    TempDir tmp;
    const std::string dir = tmp.path() + "/t-0";
    build_fixture(dir);
    {
      auto log = open_log(dir, truncation_config(), true, &no_sync_env(), kFixtureEnd);
      ASSERT_EQ(log->truncate_to(10), ErrorCode::kNone);
      // The new leader's data: fewer batches than were cut, with another epoch.
      for (int i = 0; i < batches_after; ++i)
        ASSERT_EQ(log->append_as_follower(leader_batch({10 + 2 * int64_t{i}, 2, 9}), 0).error, ErrorCode::kNone);
    }  // crash
    auto log = open_log(dir, truncation_config(), false, &no_sync_env(), kFixtureEnd);
    EXPECT_EQ(log->log_end_offset(), 10 + 2 * batches_after);
    auto bytes = read_all(*log);
    for_each_batch(bytes, [&](const BatchHeader& h) {
      if (h.base_offset >= 10) {
        EXPECT_EQ(h.partition_leader_epoch, 9) << "batch " << h.base_offset << " came back";
      }
    });
    std::vector<EpochEntry> expected = fixture_epochs(10);
    if (batches_after > 0) expected.push_back({9, 10});
    EXPECT_EQ(log->epoch_entries(), expected);
    EXPECT_EQ(log->producer_entry(7)->batches.back().last_offset, 5);
  }
}

TEST(TruncationCrash, TruncateFullyAtEveryStep) {
  bool completed = false;
  for (int64_t budget = 0; !completed && budget < 200; ++budget) {
    const std::string context = "crash after " + std::to_string(budget) + " changes";
    TempDir tmp;
    const std::string dir = tmp.path() + "/t-0";
    build_fixture(dir);
    {
      FaultEnv env;
      auto log = open_log(dir, truncation_config(), true, &env, kFixtureEnd);
      env.ops_budget = budget;
      completed = log->truncate_fully_and_start_at(100) == ErrorCode::kNone;
    }
    auto log = open_log(dir, truncation_config(), false, &no_sync_env(), kFixtureEnd);
    ASSERT_TRUE(log) << context;
    if (log->log_start_offset() == 100) {
      EXPECT_EQ(log->log_end_offset(), 100) << context;
      EXPECT_TRUE(read_all(*log).empty()) << context;
      EXPECT_FALSE(log->producer_entry(7).has_value()) << context;
    } else {
      EXPECT_FALSE(completed) << context;
      // The old log's prefix, or (every segment gone, the new one not yet there) an empty log at 0.
      expect_consistent_prefix(*log, 0, context);
    }
    if (completed) {
      EXPECT_EQ(log->log_start_offset(), 100) << context;
      EXPECT_TRUE(log->epoch_entries().empty()) << context;
    }
  }
  EXPECT_TRUE(completed);
}

TEST(TruncationCrash, FollowerAppendAfterTruncationAtEveryStep) {
  // The whole follower sequence: truncate, then fetch the new leader's batches,
  // crashing at every change along the way.
  bool completed = false;
  for (int64_t budget = 0; !completed && budget < 300; ++budget) {
    const std::string context = "crash after " + std::to_string(budget) + " changes";
    TempDir tmp;
    const std::string dir = tmp.path() + "/t-0";
    build_fixture(dir);
    {
      FaultEnv env;
      auto log = open_log(dir, truncation_config(), true, &env, kFixtureEnd);
      env.ops_budget = budget;
      completed = log->truncate_to(14) == ErrorCode::kNone &&
                  log->append_as_follower(leader_batches(14, 4, 2, 6), 0).error == ErrorCode::kNone &&
                  log->flush() == 22 && !log->failed();
    }
    auto log = open_log(dir, truncation_config(), false, &no_sync_env(), kFixtureEnd);
    ASSERT_TRUE(log) << context;
    const auto bytes = read_all(*log);
    bool new_data = false;
    for_each_batch(bytes, [&](const BatchHeader& h) { new_data = new_data || h.partition_leader_epoch == 6; });
    if (!new_data) {
      expect_consistent_prefix(*log, 14, context);
    } else {
      // The cut happened, then some of the new batches: never the old ones above 14.
      auto expected = fixture_bytes(14);
      const auto fetched = leader_batches(14, 4, 2, 6);
      expected.insert(expected.end(), fetched.begin(), fetched.begin() + static_cast<std::ptrdiff_t>(bytes.size() - expected.size()));
      EXPECT_EQ(bytes, expected) << context;
      auto epochs = fixture_epochs(14);
      epochs.push_back({6, 14});
      EXPECT_EQ(log->epoch_entries(), epochs) << context;
    }
    if (completed) {
      EXPECT_EQ(log->log_end_offset(), 22) << context;
    }
  }
  EXPECT_TRUE(completed);
}

TEST(TruncationCrash, ATornCutTailIsCutWithoutLosingLaterSegments) {
  // The cut segment is fsynced whole before the new one exists, so its removed bytes
  // cannot be torn by a crash; recovery copes even if they were (header intact).
  for (const int64_t torn_at : {int64_t{0}, int64_t{70}, int64_t{150}}) {
    TempDir tmp;
    const std::string dir = tmp.path() + "/t-0";
    build_fixture(dir);
    const auto fetched = leader_batches(10, 2, 2, 9);
    {
      auto log = open_log(dir, truncation_config(), true, &no_sync_env(), kFixtureEnd);
      ASSERT_EQ(log->segment_base_offsets()[1], 6);
      ASSERT_EQ(log->truncate_to(10), ErrorCode::kNone);
      ASSERT_EQ(log->append_as_follower(fetched, 0).error, ErrorCode::kNone);
      log->flush();
    }
    const auto kept = static_cast<int64_t>(fixture_bytes(10).size() - fixture_bytes(6).size());
    std::filesystem::resize_file(dir + "/" + Segment::file_name(6, ".log"), static_cast<uintmax_t>(kept + torn_at));
    auto log = open_log(dir, truncation_config(), false, &no_sync_env(), 0);
    auto expected = fixture_bytes(10);
    expected.insert(expected.end(), fetched.begin(), fetched.end());
    EXPECT_EQ(read_all(*log), expected) << torn_at;
    EXPECT_EQ(log->log_end_offset(), 14) << torn_at;
    auto epochs = fixture_epochs(10);
    epochs.push_back({9, 10});
    EXPECT_EQ(log->epoch_entries(), epochs) << torn_at;
  }
}
