// Idempotent-producer rules (Kafka 3.x ProducerAppendInfo / ProducerStateEntry),
// on the state manager alone and through Log::append, including restarts.
#include "storage/producer_state.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "keyed_batch.h"
#include "storage/log.h"
#include "test_util.h"

using namespace runnel;
using namespace runnel::storage;
using namespace runnel::testing;

namespace {

ProducerBatchInfo info(int64_t pid, int16_t epoch, int32_t first, int32_t count = 1, int64_t ts = 1000) {
  ProducerBatchInfo b;
  b.producer_id = pid;
  b.epoch = epoch;
  b.first_seq = first;
  b.offset_delta = count - 1;
  const int64_t last = int64_t{first} + count - 1;
  b.last_seq = static_cast<int32_t>(last > INT32_MAX ? last - INT32_MAX - 1 : last);
  b.max_timestamp = ts;
  return b;
}

// Checks one batch and, if accepted (not a duplicate), commits it at `offset`.
ErrorCode append(ProducerStateManager& m, const ProducerBatchInfo& b, int64_t offset = 0) {
  std::vector<ProducerBatchInfo> batches{b};
  auto r = m.check(batches);
  if (r.error == ErrorCode::kNone && !r.duplicate) {
    std::vector<int64_t> offsets{offset};
    m.commit(batches, offsets);
  }
  if (r.duplicate) return ErrorCode::kDuplicateSequenceNumber;  // marker for the tests below
  return r.error;
}

}  // namespace

TEST(ProducerState, InSequenceBatchesAreAccepted) {
  ProducerStateManager m;
  EXPECT_EQ(append(m, info(7, 0, 0, 3), 0), ErrorCode::kNone);
  EXPECT_EQ(append(m, info(7, 0, 3, 2), 3), ErrorCode::kNone);
  EXPECT_EQ(m.find(7)->batches.back().last_seq, 4);
  EXPECT_EQ(m.find(7)->batches.back().first_offset, 3);
}

TEST(ProducerState, GapIsOutOfOrder) {
  ProducerStateManager m;
  ASSERT_EQ(append(m, info(7, 0, 0, 3)), ErrorCode::kNone);
  EXPECT_EQ(append(m, info(7, 0, 4)), ErrorCode::kOutOfOrderSequenceNumber);
  EXPECT_EQ(append(m, info(7, 0, 2, 2)), ErrorCode::kOutOfOrderSequenceNumber);  // overlaps, not a cached batch
}

TEST(ProducerState, RetryOfOneOfTheLastFiveIsADuplicate) {
  ProducerStateManager m;
  for (int i = 0; i < 6; ++i) ASSERT_EQ(append(m, info(7, 0, i * 2, 2), i * 10), ErrorCode::kNone);
  // Batches 1..5 are cached; batch 0 (seq 0-1) fell out of the window.
  for (int i = 1; i < 6; ++i) {
    std::vector<ProducerBatchInfo> b{info(7, 0, i * 2, 2)};
    auto r = m.check(b);
    ASSERT_TRUE(r.duplicate.has_value()) << i;
    EXPECT_EQ(r.duplicate->first_offset, i * 10);
    EXPECT_EQ(r.duplicate->last_offset, i * 10 + 1);
  }
  EXPECT_EQ(append(m, info(7, 0, 0, 2)), ErrorCode::kOutOfOrderSequenceNumber);
}

TEST(ProducerState, OldEpochIsInvalidProducerEpoch) {
  ProducerStateManager m;
  ASSERT_EQ(append(m, info(7, 3, 0)), ErrorCode::kNone);
  EXPECT_EQ(append(m, info(7, 2, 1)), ErrorCode::kInvalidProducerEpoch);
  EXPECT_EQ(append(m, info(7, 2, 0)), ErrorCode::kInvalidProducerEpoch);
}

TEST(ProducerState, NewEpochMustStartAtZero) {
  ProducerStateManager m;
  ASSERT_EQ(append(m, info(7, 0, 0, 5)), ErrorCode::kNone);
  EXPECT_EQ(append(m, info(7, 1, 5)), ErrorCode::kOutOfOrderSequenceNumber);
  EXPECT_EQ(append(m, info(7, 1, 0)), ErrorCode::kNone);
  EXPECT_EQ(m.find(7)->epoch, 1);
  EXPECT_EQ(m.find(7)->batches.size(), 1u);  // the old epoch's batches are gone
}

TEST(ProducerState, AnUnknownProducerStartsAtSequenceZero) {
  // A producer this log never saw that sends sequence 1234: its earlier batches
  // are unacknowledged (refused, or taken by a leader that lost them). Accepting
  // would let the client infer they were written; OUT_OF_ORDER_SEQUENCE_NUMBER
  // makes librdkafka drain them, bump its epoch and send them again.
  ProducerStateManager m;
  EXPECT_EQ(append(m, info(9, 4, 1234)), ErrorCode::kOutOfOrderSequenceNumber);
  EXPECT_EQ(m.find(9), nullptr);
  EXPECT_EQ(append(m, info(9, 4, 0)), ErrorCode::kNone);
  EXPECT_EQ(append(m, info(9, 4, 2)), ErrorCode::kOutOfOrderSequenceNumber);
  EXPECT_EQ(append(m, info(9, 4, 1)), ErrorCode::kNone);
  // After an epoch bump the producer starts at 0 again.
  EXPECT_EQ(append(m, info(9, 5, 0)), ErrorCode::kNone);
}

// Known state of a producer, as recovery rebuilds it from a batch in the log.
void Replay(ProducerStateManager& m, int64_t producer_id, int16_t epoch, int32_t first_seq, int32_t records) {
  BatchHeader h;
  h.producer_id = producer_id;
  h.producer_epoch = epoch;
  h.base_sequence = first_seq;
  h.last_offset_delta = records - 1;
  h.base_offset = 100;
  m.replay(h);
}

TEST(ProducerState, SequenceWrapsAtInt32Max) {
  ProducerStateManager m;
  Replay(m, 7, 0, INT32_MAX - 3, 2);
  ASSERT_EQ(append(m, info(7, 0, INT32_MAX - 1, 2)), ErrorCode::kNone);
  EXPECT_EQ(m.find(7)->batches.back().last_seq, INT32_MAX);
  EXPECT_EQ(append(m, info(7, 0, 0, 3)), ErrorCode::kNone);
  // A batch that itself wraps.
  ProducerStateManager w;
  Replay(w, 8, 0, INT32_MAX - 3, 2);
  ASSERT_EQ(append(w, info(8, 0, INT32_MAX - 1, 4)), ErrorCode::kNone);
  EXPECT_EQ(w.find(8)->batches.back().last_seq, 1);
  EXPECT_EQ(append(w, info(8, 0, 2)), ErrorCode::kNone);
}

TEST(ProducerState, SeveralBatchesOfOneAppendAreCheckedInOrder) {
  ProducerStateManager m;
  ASSERT_EQ(append(m, info(7, 0, 0, 2)), ErrorCode::kNone);
  std::vector<ProducerBatchInfo> ok{info(7, 0, 2, 2), info(7, 0, 4, 1)};
  EXPECT_EQ(m.check(ok).error, ErrorCode::kNone);
  std::vector<ProducerBatchInfo> gap{info(7, 0, 2, 2), info(7, 0, 5, 1)};
  EXPECT_EQ(m.check(gap).error, ErrorCode::kOutOfOrderSequenceNumber);
}

TEST(ProducerState, ExpirationForgetsIdleProducers) {
  ProducerStateManager m;
  ASSERT_EQ(append(m, info(1, 0, 0, 1, 1000)), ErrorCode::kNone);
  ASSERT_EQ(append(m, info(2, 0, 0, 1, 5000)), ErrorCode::kNone);
  EXPECT_EQ(m.remove_expired(6000, 2000), 1u);
  EXPECT_EQ(m.find(1), nullptr);
  ASSERT_NE(m.find(2), nullptr);
  // Back past sequence 0: its earlier batches were acknowledged before it
  // expired, so it is told to reset (UNKNOWN_PRODUCER_ID) and starts again at 0.
  EXPECT_TRUE(m.forgot(1));
  EXPECT_FALSE(m.forgot(2));
  EXPECT_EQ(append(m, info(1, 0, 77)), ErrorCode::kUnknownProducerId);
  EXPECT_EQ(append(m, info(1, 1, 0)), ErrorCode::kNone);
  // Clearing the live state (recovery) keeps what expired.
  m.clear();
  EXPECT_TRUE(m.forgot(1));
}

TEST(ProducerState, ForgottenIdsAreBoundedAndSurviveSerialization) {
  ProducerStateManager m;
  const int64_t total = static_cast<int64_t>(kForgottenProducersToRemember) + 10;
  for (int64_t id = 0; id < total; ++id) ASSERT_EQ(append(m, info(id, 0, 0, 1, 1000 + id)), ErrorCode::kNone);
  EXPECT_EQ(m.remove_expired(1'000'000, 1000), static_cast<size_t>(total));
  // The oldest ten expired ids are no longer remembered: past sequence 0 they
  // look like a producer whose earlier batches are unacknowledged.
  EXPECT_EQ(append(m, info(0, 0, 5)), ErrorCode::kOutOfOrderSequenceNumber);
  EXPECT_EQ(append(m, info(total - 1, 0, 5)), ErrorCode::kUnknownProducerId);
  ProducerStateManager loaded;
  ASSERT_TRUE(loaded.parse_forgotten(m.serialize_forgotten()));
  EXPECT_FALSE(loaded.forgot(9));
  EXPECT_TRUE(loaded.forgot(10));
  EXPECT_TRUE(loaded.forgot(total - 1));
  std::string corrupt = m.serialize_forgotten();
  corrupt[12] ^= 1;
  EXPECT_FALSE(loaded.parse_forgotten(corrupt));
  EXPECT_FALSE(loaded.parse_forgotten(corrupt.substr(0, 5)));
}

TEST(ProducerState, SnapshotRoundTripKeepsFiveBatches) {
  ProducerStateManager m;
  for (int i = 0; i < 7; ++i) ASSERT_EQ(append(m, info(7, 2, i * 3, 3), 100 + i * 3), ErrorCode::kNone);
  ASSERT_EQ(append(m, info(8, 0, 0, 1), 500), ErrorCode::kNone);
  ProducerStateManager loaded;
  ASSERT_TRUE(loaded.parse(m.serialize()));
  ASSERT_NE(loaded.find(7), nullptr);
  EXPECT_EQ(loaded.find(7)->epoch, 2);
  ASSERT_EQ(loaded.find(7)->batches.size(), 5u);
  EXPECT_EQ(loaded.find(7)->batches.front().first_seq, 6);
  EXPECT_EQ(loaded.find(7)->batches.back().first_offset, 118);
  EXPECT_EQ(loaded.find(8)->batches.back().last_offset, 500);
  std::string corrupt = m.serialize();
  corrupt[20] ^= 1;
  EXPECT_FALSE(loaded.parse(corrupt));
}

TEST(ProducerState, SnapshotFileNames) {
  EXPECT_EQ(snapshot_file_name(42), "00000000000000000042.snapshot");
  EXPECT_EQ(parse_snapshot_file_name("00000000000000000042.snapshot"), 42);
  EXPECT_FALSE(parse_snapshot_file_name("00000000000000000042.log").has_value());
}

// ---- through Log::append ----

namespace {
AppendResult produce(Log& log, int64_t pid, int16_t epoch, int32_t seq, int n = 2) {
  std::vector<KV> kvs;
  for (int i = 0; i < n; ++i) kvs.push_back({"k" + std::to_string(seq + i), "v"});
  KeyedBatchSpec spec;
  spec.producer_id = pid;
  spec.producer_epoch = epoch;
  spec.base_sequence = seq;
  auto batch = keyed_batch(kvs, spec);
  return log.append(batch, 0, 5000);
}
}  // namespace

TEST(ProducerStateLog, RetryGetsTheOriginalOffsetsAndWritesNothing) {
  TempDir tmp;
  auto log = open_log(tmp.path() + "/t-0");
  ASSERT_EQ(produce(*log, 5, 0, 0).base_offset, 0);
  ASSERT_EQ(produce(*log, 5, 0, 2).base_offset, 2);
  const int64_t size = log->size_bytes();
  auto retry = produce(*log, 5, 0, 0);
  EXPECT_EQ(retry.error, ErrorCode::kNone);
  EXPECT_TRUE(retry.duplicate);
  EXPECT_EQ(retry.base_offset, 0);
  EXPECT_EQ(retry.last_offset, 1);
  EXPECT_EQ(log->size_bytes(), size);
  EXPECT_EQ(log->log_end_offset(), 4);
  EXPECT_EQ(produce(*log, 5, 0, 5).error, ErrorCode::kOutOfOrderSequenceNumber);
  EXPECT_EQ(produce(*log, 6, 0, -1).error, ErrorCode::kInvalidRecord);  // producer id without a sequence
}

TEST(ProducerStateLog, DeduplicationSurvivesCleanAndUncleanRestarts) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/t-0";
  LogConfig config;
  config.segment_bytes = 300;  // several rolls, so snapshots are written
  {
    auto log = open_log(dir, config, false);
    for (int i = 0; i < 10; ++i) ASSERT_EQ(produce(*log, 5, 0, i * 2).error, ErrorCode::kNone);
    ASSERT_GT(log->segment_count(), 2u);
    log->close();
  }
  {
    auto log = open_log(dir, config, /*clean=*/true);
    auto retry = produce(*log, 5, 0, 18);
    EXPECT_TRUE(retry.duplicate);
    EXPECT_EQ(retry.base_offset, 18);
    ASSERT_EQ(produce(*log, 5, 0, 20).base_offset, 20);
    log->flush();
    // No close(): as after a kill -9, state is rebuilt from the last snapshot + the log tail.
  }
  {
    auto log = open_log(dir, config, /*clean=*/false);
    auto retry = produce(*log, 5, 0, 20);
    EXPECT_TRUE(retry.duplicate);
    EXPECT_EQ(retry.base_offset, 20);
    EXPECT_EQ(produce(*log, 5, 0, 23).error, ErrorCode::kOutOfOrderSequenceNumber);
    log->close();
  }
  // Without any snapshot the whole log is replayed.
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.path().extension() == ".snapshot") std::filesystem::remove(entry.path());
  auto log = open_log(dir, config, true);
  EXPECT_TRUE(produce(*log, 5, 0, 20).duplicate);
  EXPECT_EQ(produce(*log, 5, 0, 22).base_offset, 22);
}

TEST(ProducerStateLog, AnExpiredProducerIsToldToResetAfterARestart) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/t-0";
  LogConfig config;
  config.segment_bytes = 300;  // rolls write snapshots, so recovery does not replay producer 5's batch
  {
    auto log = open_log(dir, config);
    ASSERT_EQ(produce(*log, 5, 0, 0).error, ErrorCode::kNone);  // batch timestamps are far in the past
    EXPECT_EQ(log->remove_expired_producers(1'000'000'000'000, 1000), 1u);
    EXPECT_EQ(produce(*log, 5, 0, 2).error, ErrorCode::kUnknownProducerId);
    EXPECT_EQ(produce(*log, 6, 0, 2).error, ErrorCode::kOutOfOrderSequenceNumber);  // never seen
    for (int i = 0; i < 10; ++i) ASSERT_EQ(produce(*log, 7, 0, i * 2).error, ErrorCode::kNone);
    ASSERT_GT(log->segment_count(), 2u);
    log->flush();
  }
  // After a kill -9 (no close) and after a clean one, the expiry is remembered.
  for (bool clean : {false, true}) {
    auto log = open_log(dir, config, clean);
    EXPECT_FALSE(log->producer_entry(5).has_value()) << "clean " << clean;  // not replayed
    EXPECT_TRUE(log->producer_entry(7).has_value()) << "clean " << clean;
    EXPECT_EQ(produce(*log, 5, 0, 2).error, ErrorCode::kUnknownProducerId) << "clean " << clean;
    EXPECT_EQ(produce(*log, 6, 0, 2).error, ErrorCode::kOutOfOrderSequenceNumber) << "clean " << clean;
    log->close();
  }
}
