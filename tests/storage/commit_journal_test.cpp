#include "storage/commit_journal.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include <fmt/format.h>

#include "batch_builder.h"
#include "storage/flusher.h"
#include "storage/log_manager.h"
#include "test_util.h"

using namespace runnel;
using namespace runnel::storage;
using namespace runnel::testing;

namespace {

Uuid make_id(uint8_t b) {
  Uuid id;
  id.bytes.fill(b);
  return id;
}

std::vector<uint8_t> bytes_of(const std::string& s) { return {s.begin(), s.end()}; }

void write_record(CommitJournal& journal, const std::vector<std::pair<std::string, std::string>>& logs) {
  std::lock_guard lock(journal.mutex());
  journal.begin_record();
  for (const auto& [name, data] : logs) {
    auto& out = journal.begin_batches(make_id(1), name);
    out.insert(out.end(), data.begin(), data.end());
    journal.end_batches();
  }
  ASSERT_FALSE(journal.commit_record());
}

std::unique_ptr<CommitJournal> reopen(const std::string& dir, std::vector<CommitJournal::Item>& items) {
  std::error_code ec;
  auto journal = CommitJournal::open(Env::posix(), dir, items, ec);
  EXPECT_FALSE(ec) << ec.message();
  return journal;
}

// A started-over journal in `dir` with one record per value, for log a-0.
void journal_with(const std::string& dir, const std::vector<std::string>& values) {
  std::vector<CommitJournal::Item> items;
  auto journal = reopen(dir, items);
  ASSERT_FALSE(journal->reset());
  for (const auto& value : values) write_record(*journal, {{"a-0", value}});
}

void overwrite_byte(const std::string& path, uintmax_t position, char byte) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(position));
  f.put(byte);
}

// What a machine that stopped without syncing may leave of a file: its first `size` bytes.
void cut_file(const std::string& path, uintmax_t size) { std::filesystem::resize_file(path, size); }

// Every segment file under `dir`, cut to nothing: none of the logs' own writes
// reached the disk.
int cut_every_segment(const std::string& dir) {
  int cut = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir))
    if (entry.path().extension() == ".log") {
      cut_file(entry.path().string(), 0);
      ++cut;
    }
  return cut;
}

std::vector<uint8_t> read_all(const std::shared_ptr<Log>& log) {
  return log->read(log->log_start_offset(), INT32_MAX, log->log_end_offset(), true).bytes;
}

JournalPolicy never_checkpoint() {
  JournalPolicy policy;
  policy.checkpoint_bytes = int64_t{1} << 40;
  policy.checkpoint_interval_ms = int64_t{1} << 40;
  return policy;
}

// Appends one record with `value` and waits until the flusher made it durable.
void append_durably(Flusher& flusher, const std::shared_ptr<Log>& log, const std::string& value) {
  auto batch = build_batch({TestRecord{std::nullopt, value}});
  const auto result = log->append(batch, 0, 1000);
  ASSERT_EQ(result.error, ErrorCode::kNone);
  std::atomic<bool> done{false};
  std::atomic<int64_t> durable{-1};
  flusher.request(log, result.last_offset + 1, [&](int64_t d, ErrorCode) {
    durable = d;
    done = true;
  });
  while (!done) std::this_thread::yield();
  ASSERT_GE(durable.load(), result.last_offset + 1);
}

}  // namespace

TEST(CommitJournal, RecordsComeBackInOrderUpToTheFirstTornOne) {
  TempDir tmp;
  const std::string file = tmp.path() + "/" + kCommitJournalFile + ".0";
  std::vector<CommitJournal::Item> items;
  {
    auto journal = reopen(tmp.path(), items);
    EXPECT_TRUE(items.empty());
    ASSERT_FALSE(journal->reset());
    write_record(*journal, {{"a-0", "first"}, {"b-3", "second"}});
    write_record(*journal, {{"a-0", "third"}});
    write_record(*journal, {{"c-1", "fourth, torn below"}});
  }
  reopen(tmp.path(), items);
  ASSERT_EQ(items.size(), 4u);
  EXPECT_EQ(items[0].name, "a-0");
  EXPECT_EQ(items[0].batches, bytes_of("first"));
  EXPECT_EQ(items[1].name, "b-3");
  EXPECT_EQ(items[2].batches, bytes_of("third"));
  EXPECT_EQ(items[3].topic_id, make_id(1));

  cut_file(file, std::filesystem::file_size(file) - 3);
  reopen(tmp.path(), items);
  ASSERT_EQ(items.size(), 3u);  // the torn record is dropped, the others stay
  EXPECT_EQ(items[2].batches, bytes_of("third"));
}

TEST(CommitJournal, AFlippedByteEndsTheRecordsThere) {
  TempDir tmp;
  const std::string file = tmp.path() + "/" + kCommitJournalFile + ".0";
  std::vector<CommitJournal::Item> items;
  journal_with(tmp.path(), {"one", "two"});
  overwrite_byte(file, std::filesystem::file_size(file) - 2, 'X');
  reopen(tmp.path(), items);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].batches, bytes_of("one"));
}

TEST(CommitJournal, StartingOverHidesEveryEarlierRecord) {
  TempDir tmp;
  std::vector<CommitJournal::Item> items;
  {
    auto journal = reopen(tmp.path(), items);
    ASSERT_FALSE(journal->reset());
    write_record(*journal, {{"a-0", std::string(1000, 'x')}});
    write_record(*journal, {{"a-0", std::string(1000, 'y')}});
    const uint64_t generation = journal->generation();
    ASSERT_FALSE(journal->reset());
    EXPECT_GT(journal->generation(), generation);
    EXPECT_EQ(journal->used_bytes(), 0);
    // Shorter than what it overwrites: the old records behind it must not count.
    write_record(*journal, {{"b-0", "new"}});
  }
  reopen(tmp.path(), items);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].name, "b-0");
  EXPECT_EQ(items[0].batches, bytes_of("new"));
}

TEST(CommitJournal, AfterASwitchBothFilesAreReadOldestFirstUntilTheNextSwitchOverwritesOne) {
  TempDir tmp;
  std::vector<CommitJournal::Item> items;
  auto journal = reopen(tmp.path(), items);
  ASSERT_FALSE(journal->reset());
  write_record(*journal, {{"a-0", "A"}});
  ASSERT_FALSE(journal->switch_files());
  EXPECT_EQ(journal->used_bytes(), 0);
  write_record(*journal, {{"a-0", "B"}});
  reopen(tmp.path(), items);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].batches, bytes_of("A"));
  EXPECT_EQ(items[1].batches, bytes_of("B"));

  // The checkpoint of A is done: the next switch starts A's file over.
  ASSERT_FALSE(journal->switch_files());
  write_record(*journal, {{"a-0", "C"}});
  reopen(tmp.path(), items);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].batches, bytes_of("B"));
  EXPECT_EQ(items[1].batches, bytes_of("C"));
}

TEST(CommitJournal, AnUnreadableHeaderMeansAnEmptyFile) {
  TempDir tmp;
  const std::string file = tmp.path() + "/" + kCommitJournalFile + ".0";
  std::vector<CommitJournal::Item> items;
  journal_with(tmp.path(), {"one"});
  overwrite_byte(file, 9, '\x7f');  // in the generation
  auto journal = reopen(tmp.path(), items);
  EXPECT_TRUE(items.empty());
  ASSERT_FALSE(journal->reset());
  write_record(*journal, {{"a-0", "after"}});
  reopen(tmp.path(), items);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].batches, bytes_of("after"));
}

TEST(CommitJournal, AcknowledgedBatchesSurviveLosingEveryUnsyncedByteOfTheLogs) {
  TempDir tmp;
  constexpr int kPartitions = 8, kBatches = 40;
  std::vector<std::vector<uint8_t>> written(kPartitions);
  {
    LogManager manager;
    ASSERT_FALSE(manager.open({tmp.path()}, {}));
    ASSERT_EQ(manager.create_topic("orders", kPartitions, make_id(7)), ErrorCode::kNone);
    Flusher flusher(1 << 16, 4);
    flusher.use_journal(manager.journal(), never_checkpoint());
    for (int b = 0; b < kBatches; ++b)
      for (int p = 0; p < kPartitions; ++p)
        append_durably(flusher, manager.get("orders", p), "p" + std::to_string(p) + " b" + std::to_string(b));
    flusher.stop();
    EXPECT_EQ(flusher.flush_calls(), 0u) << "the logs themselves were never fsynced";
    EXPECT_GT(flusher.journal_commits(), 0u);
    for (int p = 0; p < kPartitions; ++p) {
      written[p] = read_all(manager.get("orders", p));
      EXPECT_EQ(manager.get("orders", p)->high_watermark(), kBatches);
    }
    // The machine stops here: no shutdown, no clean-shutdown marker.
  }
  EXPECT_EQ(cut_every_segment(tmp.path()), kPartitions);

  LogManager manager;
  ASSERT_FALSE(manager.open({tmp.path()}, {}));
  for (int p = 0; p < kPartitions; ++p) {
    auto log = manager.get("orders", p);
    EXPECT_EQ(log->log_end_offset(), kBatches) << "partition " << p;
    EXPECT_EQ(read_all(log), written[p]) << "partition " << p;
    EXPECT_EQ(log->synced_offset(), kBatches) << "restored batches are synced before the journal starts over";
  }
  EXPECT_EQ(manager.journal()->used_bytes(), 0);
}

TEST(CommitJournal, ALogSyncsItselfAfterARollSoThatOnlyItsActiveSegmentDependsOnTheJournal) {
  TempDir tmp;
  std::vector<uint8_t> written;
  std::string active;
  uintmax_t synced_size = 0;
  {
    LogManager manager;
    ASSERT_FALSE(manager.open({tmp.path()}, {}));
    LogConfig small;
    small.segment_bytes = 400;  // a roll every few batches
    ASSERT_EQ(manager.create_topic("t", 1, make_id(3), small), ErrorCode::kNone);
    Flusher flusher(1 << 16, 1);
    flusher.use_journal(manager.journal(), never_checkpoint());
    auto log = manager.get("t", 0);
    for (int b = 0; b < 40; ++b) {
      const size_t segments = log->segment_count();
      append_durably(flusher, log, "record number " + std::to_string(b));
      if (log->segment_count() != segments) {
        // Rolled: the log synced itself, this batch included; later ones are journaled.
        active = tmp.path() + "/t-0/" + fmt::format("{:020d}", log->segment_base_offsets().back()) + ".log";
        synced_size = std::filesystem::file_size(active);
      }
    }
    flusher.stop();
    ASSERT_GT(log->segment_count(), 3u);
    EXPECT_GT(flusher.flush_calls(), 0u);
    EXPECT_GT(flusher.journal_commits(), 0u);
    written = read_all(log);
    ASSERT_LT(synced_size, std::filesystem::file_size(active)) << "the last batches must depend on the journal";
  }
  // Everything up to the last roll was synced; the active segment lost what it got since.
  cut_file(active, synced_size);
  LogManager manager;
  ASSERT_FALSE(manager.open({tmp.path()}, {}));
  EXPECT_EQ(read_all(manager.get("t", 0)), written);
}

TEST(CommitJournal, ATornLogTailIsCompletedFromTheJournal) {
  TempDir tmp;
  std::vector<uint8_t> written;
  {
    LogManager manager;
    ASSERT_FALSE(manager.open({tmp.path()}, {}));
    ASSERT_EQ(manager.create_topic("t", 1, make_id(3)), ErrorCode::kNone);
    Flusher flusher(1 << 16, 1);
    flusher.use_journal(manager.journal(), never_checkpoint());
    for (int b = 0; b < 30; ++b) append_durably(flusher, manager.get("t", 0), "record " + std::to_string(b));
    flusher.stop();
    written = read_all(manager.get("t", 0));
  }
  // Half the segment reached the disk, the last of it torn mid-batch.
  const std::string segment = tmp.path() + "/t-0/00000000000000000000.log";
  cut_file(segment, written.size() / 2 + 7);
  LogManager manager;
  ASSERT_FALSE(manager.open({tmp.path()}, {}));
  EXPECT_EQ(read_all(manager.get("t", 0)), written);
}

TEST(CommitJournal, ATruncatedLogGetsNoneOfItsRemovedBatchesBack) {
  TempDir tmp;
  std::vector<uint8_t> expected;
  const std::string segment = tmp.path() + "/t-0/00000000000000000005.log";
  uintmax_t synced_size = 0;
  {
    LogManager manager;
    ASSERT_FALSE(manager.open({tmp.path()}, {}));
    ASSERT_EQ(manager.create_topic("t", 1, make_id(3)), ErrorCode::kNone);
    auto log = manager.get("t", 0);
    Flusher flusher(1 << 16, 1);
    flusher.use_journal(manager.journal(), never_checkpoint());
    for (int b = 0; b < 10; ++b) append_durably(flusher, log, "old " + std::to_string(b));
    // A follower finds it diverged at 5: the journal forgets the log, then it is cut.
    ASSERT_EQ(log->truncate_to(5), ErrorCode::kNone);
    // The first append after the cut syncs the log (a new segment); the next are journaled.
    append_durably(flusher, log, "new 5");
    synced_size = std::filesystem::file_size(segment);
    for (int b = 6; b < 9; ++b) append_durably(flusher, log, "new " + std::to_string(b));
    flusher.stop();
    expected = read_all(log);
  }
  cut_file(segment, synced_size);
  LogManager manager;
  ASSERT_FALSE(manager.open({tmp.path()}, {}));
  auto log = manager.get("t", 0);
  EXPECT_EQ(log->log_end_offset(), 9);
  EXPECT_EQ(read_all(log), expected);
}

TEST(CommitJournal, ARemovedAndRecreatedPartitionGetsNothingOfItsPredecessor) {
  TempDir tmp;
  {
    LogManager manager;
    ASSERT_FALSE(manager.open({tmp.path()}, {}));
    auto [error, log] = manager.create_log("t", 0, make_id(3), {});
    ASSERT_EQ(error, ErrorCode::kNone);
    Flusher flusher(1 << 16, 1);
    flusher.use_journal(manager.journal(), never_checkpoint());
    for (int b = 0; b < 5; ++b) append_durably(flusher, log, "gone " + std::to_string(b));
    ASSERT_EQ(manager.remove_log("t", 0), ErrorCode::kNone);
    auto [again, fresh] = manager.create_log("t", 0, make_id(3), {});
    ASSERT_EQ(again, ErrorCode::kNone);
    flusher.stop();
  }
  LogManager manager;
  ASSERT_FALSE(manager.open({tmp.path()}, {}));
  EXPECT_EQ(manager.get("t", 0)->log_end_offset(), 0);
}

TEST(CommitJournal, ALogWithMuchNewDataIsSyncedItself) {
  TempDir tmp;
  LogManager manager;
  ASSERT_FALSE(manager.open({tmp.path()}, {}));
  ASSERT_EQ(manager.create_topic("t", 1, make_id(3)), ErrorCode::kNone);
  Flusher flusher(1 << 16, 1);
  JournalPolicy policy = never_checkpoint();
  policy.max_log_bytes = 10;  // every batch is bigger
  flusher.use_journal(manager.journal(), policy);
  append_durably(flusher, manager.get("t", 0), std::string(100, 'z'));
  flusher.stop();
  EXPECT_EQ(flusher.flush_calls(), 1u);
  EXPECT_EQ(flusher.journal_commits(), 0u);
  EXPECT_EQ(manager.get("t", 0)->synced_offset(), 1);
}

bool wait_for(const std::function<bool()>& condition) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!condition() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return condition();
}

TEST(CommitJournal, ACheckpointSyncsTheLogsInTheBackgroundAndSwitchesFiles) {
  TempDir tmp;
  LogManager manager;
  ASSERT_FALSE(manager.open({tmp.path()}, {}));
  ASSERT_EQ(manager.create_topic("t", 2, make_id(3)), ErrorCode::kNone);
  Flusher flusher(1 << 16, 2);
  JournalPolicy policy = never_checkpoint();
  policy.checkpoint_bytes = 1;  // after every round
  flusher.use_journal(manager.journal(), policy);
  const uint64_t generation = manager.journal()->generation();
  append_durably(flusher, manager.get("t", 0), "a");
  ASSERT_TRUE(wait_for([&] { return flusher.journal_checkpoints() == 1; }));
  EXPECT_EQ(manager.get("t", 0)->synced_offset(), 1);
  EXPECT_EQ(manager.get("t", 1)->synced_offset(), 0);
  EXPECT_EQ(manager.journal()->generation(), generation + 1);
  append_durably(flusher, manager.get("t", 1), "b");
  ASSERT_TRUE(wait_for([&] { return flusher.journal_checkpoints() == 2; }));
  flusher.stop();
  EXPECT_EQ(flusher.journal_commits(), 2u);
  EXPECT_EQ(manager.get("t", 1)->synced_offset(), 1);
  EXPECT_EQ(manager.journal()->used_bytes(), 0);
}
