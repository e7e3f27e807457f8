// Log compaction: last value per key, offsets kept, tombstones after the delete
// horizon, compressed batches, producer state, and the crash-safe swap.
#include "storage/log_cleaner.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "keyed_batch.h"
#include "storage/log.h"
#include "storage/log_manager.h"
#include "test_util.h"

using namespace runnel;
using namespace runnel::storage;
using namespace runnel::testing;
namespace fs = std::filesystem;

namespace {

constexpr int64_t kDay = 86'400'000;

LogConfig compacted() {
  LogConfig c;
  c.segment_bytes = 4000;
  c.cleanup_compact = true;
  c.cleanup_delete = false;
  c.delete_retention_ms = kDay;
  return c;
}

struct Expected {
  std::map<std::string, std::pair<int64_t, std::optional<std::string>>> last;  // key -> (offset, value)
};

// `updates` records over `keys` keys, every 7th a tombstone, in batches of 10; then
// one more batch so the data sits in closed segments.
Expected fill(Log& log, int updates, int keys, CompressionType codec = CompressionType::kNone) {
  Expected e;
  std::vector<KV> batch;
  auto flush_batch = [&] {
    KeyedBatchSpec spec;
    spec.codec = codec;
    auto bytes = keyed_batch(batch, spec);
    auto r = log.append(bytes, 0, 1000);
    EXPECT_EQ(r.error, ErrorCode::kNone);
    for (size_t i = 0; i < batch.size(); ++i) e.last[batch[i].key] = {r.base_offset + static_cast<int64_t>(i), batch[i].value};
    batch.clear();
  };
  for (int i = 0; i < updates; ++i) {
    const std::string key = "key-" + std::to_string((i * 37) % keys);
    std::optional<std::string> value;
    if (i % 7 != 3) value = "value-" + std::to_string(i);
    batch.push_back({key, value});
    if (batch.size() == 10) flush_batch();
  }
  if (!batch.empty()) flush_batch();
  log.flush();
  auto roll = keyed_batch({{"tail", std::string(5000, 't')}});
  log.append(roll, 0, 1000);  // oversized: closes the segment before it
  log.flush();
  e.last.erase("tail");
  return e;
}

// The log's records below the tail must be exactly one per key, at its last offset.
void expect_compacted(const Log& log, const Expected& e, bool tombstones_expected) {
  auto records = read_all(log);
  std::map<std::string, int> count;
  for (const auto& r : records) {
    if (r.key == "tail") continue;
    ++count[r.key];
    auto it = e.last.find(r.key);
    ASSERT_NE(it, e.last.end()) << r.key;
    EXPECT_EQ(r.offset, it->second.first) << r.key;  // offsets unchanged
    EXPECT_EQ(r.value, it->second.second) << r.key;
  }
  for (const auto& [key, last] : e.last) {
    const bool tombstone = !last.second.has_value();
    if (tombstone && !tombstones_expected) {
      EXPECT_EQ(count[key], 0) << key;
    } else {
      EXPECT_EQ(count[key], 1) << key;
    }
  }
}

// Uncompacted or not: the last record of every key is the expected one.
void expect_latest_values(const Log& log, const Expected& e) {
  std::map<std::string, std::pair<int64_t, std::optional<std::string>>> last;
  for (const auto& r : read_all(log)) last[r.key] = {r.offset, r.value};
  for (const auto& [key, want] : e.last) EXPECT_EQ(last[key], want) << key;
}

}  // namespace

TEST(Cleaner, KeepsTheLastRecordPerKeyWithOffsetsAndDropsTombstonesAfterTheHorizon) {
  TempDir tmp;
  auto log = open_log(tmp.path() + "/t-0", compacted());
  const auto expected = fill(*log, 2000, 100);
  const int64_t before = log->size_bytes();
  auto r = LogCleaner::clean(*log, 10'000, /*force=*/false);
  ASSERT_TRUE(r.cleaned);
  EXPECT_LT(log->size_bytes(), before / 3);
  expect_compacted(*log, expected, /*tombstones_expected=*/true);
  // Nothing new: no second pass until the tombstones' horizon (now + delete.retention.ms).
  EXPECT_FALSE(LogCleaner::clean(*log, 20'000, false).cleaned);
  ASSERT_TRUE(LogCleaner::clean(*log, 10'000 + kDay + 1, false).cleaned);
  expect_compacted(*log, expected, /*tombstones_expected=*/false);
  // The log still appends and reads at its end.
  auto more = keyed_batch({{"key-1", "again"}});
  const int64_t end = log->log_end_offset();
  EXPECT_EQ(log->append(more, 0, 2000).base_offset, end);
}

TEST(Cleaner, WorksOnEveryCodec) {
  for (auto codec : {CompressionType::kGzip, CompressionType::kSnappy, CompressionType::kLz4, CompressionType::kZstd}) {
    TempDir tmp;
    auto log = open_log(tmp.path() + "/t-0", compacted());
    const auto expected = fill(*log, 1000, 40, codec);
    ASSERT_TRUE(LogCleaner::clean(*log, 10'000, false).cleaned) << static_cast<int>(codec);
    expect_compacted(*log, expected, true);
    std::vector<BatchHeader> headers;
    read_all(*log, &headers);
    for (const auto& h : headers)
      if (h.record_count > 0 && h.last_offset() < log->log_end_offset() - 1) {
        EXPECT_EQ(h.compression(), static_cast<int>(codec));
      }
  }
}

TEST(Cleaner, SurvivesReopenAndCleansAgainIncrementally) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/t-0";
  auto log = open_log(dir, compacted());
  auto expected = fill(*log, 1000, 50);
  ASSERT_TRUE(LogCleaner::clean(*log, 10'000, false).cleaned);
  const int64_t checkpoint = log->cleaner_checkpoint();
  EXPECT_GT(checkpoint, 0);
  log->close();
  log.reset();
  LogOpenOptions options;
  options.dir = dir;
  options.config = compacted();
  options.clean_shutdown = true;
  options.cleaner_checkpoint = checkpoint;
  std::error_code ec;
  log = Log::open(options, ec);
  ASSERT_TRUE(log) << ec.message();
  expect_compacted(*log, expected, true);
  auto more = fill(*log, 1000, 50);
  for (auto& [k, v] : more.last) expected.last[k] = v;
  ASSERT_TRUE(LogCleaner::clean(*log, 20'000, false).cleaned);
  expect_compacted(*log, expected, true);
}

TEST(Cleaner, MinCompactionLagKeepsYoungSegmentsDirty) {
  TempDir tmp;
  auto config = compacted();
  config.min_compaction_lag_ms = 60'000;
  auto log = open_log(tmp.path() + "/t-0", config);
  fill(*log, 500, 10);  // record timestamps are 1000
  EXPECT_FALSE(LogCleaner::clean(*log, 30'000, true).cleaned);
  EXPECT_TRUE(LogCleaner::clean(*log, 120'000, true).cleaned);
}

TEST(Cleaner, DirtyRatioGatesCleaning) {
  TempDir tmp;
  auto config = compacted();
  config.min_cleanable_dirty_ratio = 0.9;
  auto log = open_log(tmp.path() + "/t-0", config);
  fill(*log, 1000, 1000);  // all distinct keys
  ASSERT_TRUE(LogCleaner::clean(*log, 10'000, true).cleaned);
  fill(*log, 50, 1000);  // a little dirt on a big clean part
  EXPECT_FALSE(LogCleaner::clean(*log, 20'000, false).cleaned);
  EXPECT_TRUE(LogCleaner::clean(*log, 20'000, true).cleaned);
}

TEST(Cleaner, KeepsTheLastBatchOfALiveProducerEvenWhenEmpty) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/t-0";
  auto log = open_log(dir, compacted());
  KeyedBatchSpec p5{CompressionType::kNone, 1000, 5, 0, 0};
  auto first = keyed_batch({{"a", "1"}, {"b", "1"}}, p5);
  ASSERT_EQ(log->append(first, 0, 1000).base_offset, 0);
  for (int i = 0; i < 30; ++i) {
    auto over = keyed_batch({{"a", std::to_string(i)}, {"b", std::to_string(i)}, {"c", std::string(100, 'x')}});
    log->append(over, 0, 1000);
  }
  auto roll = keyed_batch({{"tail", std::string(5000, 't')}});
  log->append(roll, 0, 1000);
  log->flush();
  ASSERT_TRUE(LogCleaner::clean(*log, 10'000, true).cleaned);
  std::vector<BatchHeader> headers;
  read_all(*log, &headers);
  ASSERT_FALSE(headers.empty());
  EXPECT_EQ(headers.front().producer_id, 5);
  EXPECT_EQ(headers.front().record_count, 0);
  EXPECT_EQ(headers.front().last_offset(), 1);
  log->close();
  log = open_log(dir, compacted(), true);
  auto retry = keyed_batch({{"a", "1"}, {"b", "1"}}, p5);
  auto r = log->append(retry, 0, 1000);
  EXPECT_TRUE(r.duplicate);
  EXPECT_EQ(r.base_offset, 0);
}

TEST(Cleaner, LeftoverCleanedFilesAreDiscardedAndSwapFilesCompleted) {
  TempDir tmp;
  const std::string a = tmp.path() + "/a-0", b = tmp.path() + "/b-0";
  Expected expected;
  {
    auto log = open_log(a, compacted());
    expected = fill(*log, 1500, 60);
    log->close();
  }
  fs::copy(a, b);  // b: the state before cleaning
  {
    auto log = open_log(a, compacted(), true);
    ASSERT_TRUE(LogCleaner::clean(*log, 10'000, true).cleaned);
    log->close();
  }
  // Crash after writing the cleaned segment but before the swap: b gets it as .cleaned.
  fs::copy(b, tmp.path() + "/c-0");
  const std::string c = tmp.path() + "/c-0";
  std::vector<std::string> cleaned_bases;
  for (const auto& e : fs::directory_iterator(a)) {
    const auto name = e.path().filename().string();
    if (!name.ends_with(".log") && !name.ends_with(".index") && !name.ends_with(".timeindex")) continue;
    if (fs::exists(b + "/" + name) && fs::file_size(b + "/" + name) == fs::file_size(e.path())) continue;
    fs::copy_file(e.path(), c + "/" + name + ".cleaned");
    fs::copy_file(e.path(), b + "/" + name + ".swap");  // crash after .cleaned -> .swap
  }
  {
    auto log = open_log(c, compacted(), true);
    expect_latest_values(*log, expected);  // the untouched old data, fully readable
    auto records = read_all(*log);
    EXPECT_GT(records.size(), expected.last.size());  // not compacted: the .cleaned output was dropped
  }
  for (const auto& e : fs::directory_iterator(c)) EXPECT_FALSE(e.path().string().ends_with(".cleaned"));
  auto log = open_log(b, compacted(), false);
  expect_compacted(*log, expected, true);
  for (const auto& e : fs::directory_iterator(b)) EXPECT_FALSE(e.path().string().ends_with(".swap"));
}

TEST(Cleaner, CleanFilthiestPicksCompactedLogsOnly) {
  TempDir tmp;
  LogManager manager;
  ASSERT_FALSE(manager.open({tmp.path()}, LogConfig{}));
  ASSERT_EQ(manager.create_topic("plain", 1, Uuid{}, LogConfig{}), ErrorCode::kNone);
  ASSERT_EQ(manager.create_topic("compact", 1, Uuid{}, compacted()), ErrorCode::kNone);
  fill(*manager.get("plain", 0), 300, 5);
  fill(*manager.get("compact", 0), 300, 5);
  LogCleaner cleaner(manager, LogCleanerOptions{});
  EXPECT_TRUE(cleaner.clean_filthiest(10'000));
  EXPECT_GT(manager.get("compact", 0)->cleaner_checkpoint(), 0);
  EXPECT_EQ(manager.get("plain", 0)->cleaner_checkpoint(), -1);
  EXPECT_FALSE(cleaner.clean_filthiest(10'000));
  ASSERT_FALSE(manager.write_checkpoints());
  std::string text;
  ASSERT_FALSE(read_whole_file(Env::posix(), tmp.path() + "/cleaner-offset-checkpoint", text));
  EXPECT_NE(text.find("compact 0 "), std::string::npos);
  manager.shutdown();
}
