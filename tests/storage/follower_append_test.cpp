// Log::append_as_follower: batches copied from a leader.
#include <gtest/gtest.h>

#include <filesystem>

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
  return config;
}

}  // namespace

TEST(FollowerAppend, KeepsOffsetsEpochsAndBytes) {
  TempDir tmp;
  auto log = open_log(tmp.path() + "/t-0");
  std::vector<uint8_t> fetched = leader_batch({0, 3, 1});
  concat(fetched, leader_batch({3, 2, 1}));
  concat(fetched, leader_batch({5, 4, 2}));
  const auto r = log->append_as_follower(fetched, 5000);
  ASSERT_EQ(r.error, ErrorCode::kNone) << r.error_message;
  EXPECT_EQ(r.base_offset, 0);
  EXPECT_EQ(r.last_offset, 8);
  EXPECT_EQ(r.record_count, 9);
  EXPECT_FALSE(r.duplicate);
  EXPECT_EQ(log->log_end_offset(), 9);
  EXPECT_EQ(read_all(*log), fetched);  // byte for byte, epochs included
  EXPECT_EQ(log->epoch_entries(), (Entries{{1, 0}, {2, 5}}));
  EXPECT_EQ(log->latest_epoch(), 2);
  EXPECT_EQ(log->end_offset_for_epoch(1), (EpochEndOffset{1, 5}));
  EXPECT_EQ(log->end_offset_for_epoch(2), (EpochEndOffset{2, 9}));

  // The next fetch continues at the log end.
  const auto next = leader_batch({9, 1, 4});
  ASSERT_EQ(log->append_as_follower(next, 5000).error, ErrorCode::kNone);
  EXPECT_EQ(log->epoch_entries(), (Entries{{1, 0}, {2, 5}, {4, 9}}));
  // The epoch cache is on disk as Kafka writes it.
  std::string text;
  ASSERT_FALSE(read_whole_file(Env::posix(), tmp.path() + "/t-0/" + kLeaderEpochCheckpointFile, text));
  EXPECT_EQ(text, "0\n3\n1 0\n2 5\n4 9\n");
}

TEST(FollowerAppend, RefusesOverlapsAndGapsWritingNothing) {
  TempDir tmp;
  auto log = open_log(tmp.path() + "/t-0");
  ASSERT_EQ(log->append_as_follower(leader_batches(0, 3, 2, 1), 0).error, ErrorCode::kNone);  // offsets 0..5
  const auto before = read_all(*log);

  auto overlap = log->append_as_follower(leader_batch({4, 2, 1}), 0);
  EXPECT_EQ(overlap.error, ErrorCode::kOffsetOutOfRange);
  EXPECT_FALSE(overlap.error_message.empty());
  EXPECT_EQ(log->append_as_follower(leader_batch({0, 2, 1}), 0).error, ErrorCode::kOffsetOutOfRange);
  EXPECT_EQ(log->append_as_follower(leader_batch({7, 2, 1}), 0).error, ErrorCode::kOffsetOutOfRange);  // gap

  // A gap or an overlap between batches of one fetch: nothing of it is written.
  std::vector<uint8_t> gapped = leader_batch({6, 2, 1});
  concat(gapped, leader_batch({9, 2, 1}));
  EXPECT_EQ(log->append_as_follower(gapped, 0).error, ErrorCode::kCorruptMessage);
  std::vector<uint8_t> overlapping = leader_batch({6, 2, 1});
  concat(overlapping, leader_batch({7, 2, 1}));
  EXPECT_EQ(log->append_as_follower(overlapping, 0).error, ErrorCode::kCorruptMessage);
  EXPECT_EQ(log->log_end_offset(), 6);
  EXPECT_EQ(read_all(*log), before);
  EXPECT_EQ(log->epoch_entries(), (Entries{{1, 0}}));
}

TEST(FollowerAppend, IgnoresATrailingPartialBatch) {
  TempDir tmp;
  auto log = open_log(tmp.path() + "/t-0");
  const auto whole = leader_batch({0, 2, 0});
  const auto second = leader_batch({2, 3, 0});
  for (size_t cut : {size_t{5}, size_t{12}, size_t{40}, second.size() - 1}) {
    std::vector<uint8_t> fetched = whole;
    fetched.insert(fetched.end(), second.begin(), second.begin() + static_cast<std::ptrdiff_t>(cut));
    TempDir dir;
    auto l = open_log(dir.path() + "/t-0");
    auto r = l->append_as_follower(fetched, 0);
    ASSERT_EQ(r.error, ErrorCode::kNone) << cut;
    EXPECT_EQ(r.last_offset, 1);
    EXPECT_EQ(l->log_end_offset(), 2);
    EXPECT_EQ(read_all(*l), whole);
  }
  // Nothing but a partial batch: nothing to do, not an error.
  const std::vector<uint8_t> partial(whole.begin(), whole.begin() + 30);
  auto r = log->append_as_follower(partial, 0);
  EXPECT_EQ(r.error, ErrorCode::kNone);
  EXPECT_EQ(r.record_count, 0);
  EXPECT_EQ(r.base_offset, -1);
  EXPECT_EQ(log->log_end_offset(), 0);
  EXPECT_EQ(log->append_as_follower({}, 0).error, ErrorCode::kNone);
}

TEST(FollowerAppend, RefusesDamagedBatches) {
  TempDir tmp;
  auto log = open_log(tmp.path() + "/t-0");
  auto good = leader_batch({0, 2, 0});
  auto bad_crc = leader_batch({0, 2, 0});
  bad_crc.back() ^= 1;
  EXPECT_EQ(log->append_as_follower(bad_crc, 0).error, ErrorCode::kCorruptMessage);
  auto magic1 = good;
  magic1[batch_layout::kMagic] = 1;
  EXPECT_EQ(log->append_as_follower(magic1, 0).error, ErrorCode::kUnsupportedForMessageFormat);
  auto magic7 = good;
  magic7[batch_layout::kMagic] = 7;
  EXPECT_EQ(log->append_as_follower(magic7, 0).error, ErrorCode::kCorruptMessage);
  auto short_length = good;
  store_be32(short_length.data() + batch_layout::kBatchLength, 10);
  EXPECT_EQ(log->append_as_follower(short_length, 0).error, ErrorCode::kCorruptMessage);
  auto negative_delta = good;
  store_be32(negative_delta.data() + batch_layout::kLastOffsetDelta, -1);
  fix_crc(negative_delta);
  EXPECT_EQ(log->append_as_follower(negative_delta, 0).error, ErrorCode::kCorruptMessage);
  // A bad batch after a good one: the good one is not written either.
  std::vector<uint8_t> mixed = good;
  auto second_bad = leader_batch({2, 1, 0});
  second_bad[30] ^= 0x40;
  concat(mixed, second_bad);
  EXPECT_EQ(log->append_as_follower(mixed, 0).error, ErrorCode::kCorruptMessage);
  EXPECT_EQ(log->log_end_offset(), 0);
  EXPECT_TRUE(log->epoch_entries().empty());
  EXPECT_EQ(log->append_as_follower(good, 0).error, ErrorCode::kNone);
}

TEST(FollowerAppend, AcceptsWhatOnlyTheLeaderChecks) {
  TempDir tmp;
  LogConfig config;
  config.max_message_bytes = 100;  // the leader's limit, not the follower's
  auto log = open_log(tmp.path() + "/t-0", config);
  auto big = leader_batch({0, 5, 0, -1, -1, -1, 200});
  ASSERT_GT(big.size(), 100u);
  EXPECT_EQ(log->append_as_follower(big, 0).error, ErrorCode::kNone);
  // Control batches (transaction markers) come only from leaders.
  BatchSpec spec;
  spec.base_offset = 5;
  spec.attributes = batch_attr::kControl;
  spec.producer_id = 9;
  spec.producer_epoch = 0;
  spec.partition_leader_epoch = 0;
  auto control = build_batch({{std::string("\0\0\0\0", 4), std::string("\0\0\0\0\0\0", 6), 0}}, spec);
  EXPECT_EQ(log->append_as_follower(control, 0).error, ErrorCode::kNone);
  EXPECT_EQ(log->log_end_offset(), 6);
  EXPECT_FALSE(log->producer_entry(9).has_value());  // markers are not producer batches
  // A leader append of a control batch is still refused.
  auto again = build_batch({{std::string("k"), std::string("v"), 0}}, spec);
  EXPECT_EQ(log->append(again, 0, 0).error, ErrorCode::kInvalidRecord);
}

TEST(FollowerAppend, ProducerRetriesAreDuplicatesForALaterLeader) {
  TempDir tmp;
  auto log = open_log(tmp.path() + "/t-0");
  ASSERT_EQ(log->append_as_follower(leader_batch({0, 2, 3}), 0).error, ErrorCode::kNone);
  // Producer 7's first batch (sequences 0..2) as the old leader wrote it, at offsets 2..4.
  const auto produced = leader_batch({2, 3, 3, 7, 0, 0});
  ASSERT_EQ(log->append_as_follower(produced, 0).error, ErrorCode::kNone);
  const auto entry = log->producer_entry(7);
  ASSERT_TRUE(entry.has_value());
  ASSERT_EQ(entry->batches.size(), 1u);
  EXPECT_EQ(entry->batches.back().first_offset, 2);
  EXPECT_EQ(entry->batches.back().last_offset, 4);
  EXPECT_EQ(entry->batches.back().last_seq, 2);

  // This replica becomes leader; the producer retries the batch it never got an answer for.
  auto retry = leader_batch({0, 3, -1, 7, 0, 0});
  auto r = log->append(retry, 4, 0);
  ASSERT_EQ(r.error, ErrorCode::kNone);
  EXPECT_TRUE(r.duplicate);
  EXPECT_EQ(r.base_offset, 2);
  EXPECT_EQ(r.last_offset, 4);
  EXPECT_EQ(log->log_end_offset(), 5);
  // Its next batch goes on; a gap in sequences does not.
  auto out_of_order = leader_batch({0, 1, -1, 7, 0, 5});
  EXPECT_EQ(log->append(out_of_order, 4, 0).error, ErrorCode::kOutOfOrderSequenceNumber);
  auto next = leader_batch({0, 1, -1, 7, 0, 3});
  r = log->append(next, 4, 0);
  ASSERT_EQ(r.error, ErrorCode::kNone);
  EXPECT_EQ(r.base_offset, 5);
  EXPECT_EQ(log->epoch_entries(), (Entries{{3, 0}, {4, 5}}));
}

TEST(FollowerAppend, ReplaysProducerBatchesWithoutChecks) {
  TempDir tmp;
  auto log = open_log(tmp.path() + "/t-0");
  // Sequences a leader would refuse from a client (a jump, then an older epoch) are
  // recorded as they come: the leader already decided.
  ASSERT_EQ(log->append_as_follower(leader_batch({0, 1, 0, 7, 2, 0}), 0).error, ErrorCode::kNone);
  ASSERT_EQ(log->append_as_follower(leader_batch({1, 1, 0, 7, 2, 9}), 0).error, ErrorCode::kNone);
  auto entry = log->producer_entry(7);
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->epoch, 2);
  EXPECT_EQ(entry->batches.back().last_seq, 9);
  EXPECT_EQ(entry->batches.back().first_offset, 1);
}

TEST(FollowerAppend, RollsSegmentsAndSurvivesReopen) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/t-0";
  LogPicture before;
  {
    auto log = open_log(dir, small_segments());
    int64_t next = 0;
    for (int round = 0; round < 6; ++round) {
      const auto fetched = leader_batches(next, 3, 2, round / 2);
      ASSERT_EQ(log->append_as_follower(fetched, 1000 + round).error, ErrorCode::kNone);
      next += 6;
    }
    EXPECT_GT(log->segment_count(), 3u);
    before = picture(*log);
    EXPECT_EQ(before.epochs, (Entries{{0, 0}, {1, 12}, {2, 24}}));
    // Reads from every offset find their batch.
    for (int64_t off = 0; off < 36; ++off) {
      auto r = log->read(off, 1, INT64_MAX, true);
      ASSERT_EQ(r.error, ErrorCode::kNone);
      auto h = parse_batch_header(r.bytes);
      EXPECT_LE(h.base_offset, off);
      EXPECT_GE(h.last_offset(), off);
    }
    // no close(): an unclean restart
  }
  auto unclean = open_log(dir, small_segments());
  EXPECT_EQ(picture(*unclean), before) << dump(picture(*unclean));
  unclean->close();
  auto clean = open_log(dir, small_segments(), /*clean_shutdown=*/true, nullptr, 36);
  EXPECT_EQ(picture(*clean), before);
}

TEST(FollowerAppend, CompactedTopicsMayHaveGaps) {
  TempDir tmp;
  LogConfig config;
  config.cleanup_compact = true;
  auto log = open_log(tmp.path() + "/t-0", config);
  // A cleaned leader log: batches wholly removed leave gaps, and a batch may keep
  // its offsets with fewer records, or none (kept for its producer).
  std::vector<uint8_t> fetched = leader_batch({4, 2, 1});
  concat(fetched, leader_batch({10, 1, 1}));
  auto empty = leader_batch({12, 3, 1, 5, 0, 7});
  store_be32(empty.data() + batch_layout::kRecordCount, 0);
  fix_crc(empty);
  concat(fetched, empty);
  auto r = log->append_as_follower(fetched, 0);
  ASSERT_EQ(r.error, ErrorCode::kNone) << r.error_message;
  EXPECT_EQ(r.base_offset, 4);
  EXPECT_EQ(r.last_offset, 14);
  EXPECT_EQ(log->log_end_offset(), 15);
  EXPECT_EQ(log->log_start_offset(), 0);
  EXPECT_EQ(batch_bases(read_all(*log)), (std::vector<int64_t>{4, 10, 12}));
  EXPECT_EQ(log->producer_entry(5)->batches.back().last_offset, 14);
  // Offsets must still increase, and never overlap the log.
  std::vector<uint8_t> backwards = leader_batch({20, 2, 1});
  concat(backwards, leader_batch({21, 1, 1}));
  EXPECT_EQ(log->append_as_follower(backwards, 0).error, ErrorCode::kCorruptMessage);
  EXPECT_EQ(log->append_as_follower(leader_batch({14, 1, 1}), 0).error, ErrorCode::kOffsetOutOfRange);
  // A gap too large for one segment's relative offsets rolls a new one.
  const int64_t far = int64_t{1} << 33;
  ASSERT_EQ(log->append_as_follower(leader_batch({far, 1, 2}), 0).error, ErrorCode::kNone);
  EXPECT_EQ(log->segment_base_offsets().back(), far);
  EXPECT_EQ(log->log_end_offset(), far + 1);
}

TEST(FollowerAppend, RefusedOnAnOfflineLog) {
  TempDir tmp;
  auto log = open_log(tmp.path() + "/t-0");
  log->close();
  EXPECT_EQ(log->append_as_follower(leader_batch({0, 1, 0}), 0).error, ErrorCode::kKafkaStorageError);
}
