// Crash recovery: torn tails, corrupt batches, broken indexes, clean shutdown, full disk.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "batch_builder.h"
#include "fault_env.h"
#include "storage/log.h"
#include "storage/segment.h"
#include "test_util.h"

using namespace runnel;
using namespace runnel::storage;
using namespace runnel::testing;
namespace fs = std::filesystem;

namespace {

LogConfig small_segments() {
  LogConfig config;
  config.segment_bytes = 1000;
  config.index_interval_bytes = 100;
  return config;
}

// Appends n batches of 2 records (offsets 2i, 2i+1).
void fill(Log& log, int n) {
  for (int i = 0; i < n; ++i) {
    auto b = build_batch(2, 40, 1000 + i);
    ASSERT_EQ(log.append(b, 0, 5000).error, ErrorCode::kNone);
  }
}

std::string seg_path(const std::string& dir, int64_t base, const char* suffix) {
  return dir + "/" + Segment::file_name(base, suffix);
}

// Every offset below the end is readable and the first batch returned contains it.
void expect_readable(Log& log) {
  for (int64_t off = log.log_start_offset(); off < log.log_end_offset(); ++off) {
    auto r = log.read(off, 1, INT64_MAX, true);
    ASSERT_EQ(r.error, ErrorCode::kNone);
    ASSERT_FALSE(r.bytes.empty()) << off;
    auto h = parse_batch_header(r.bytes);
    ASSERT_LE(h.base_offset, off);
    ASSERT_GE(h.last_offset(), off);
  }
}

void append_garbage(const std::string& path, size_t n) {
  std::ofstream f(path, std::ios::binary | std::ios::app);
  for (size_t i = 0; i < n; ++i) f.put(static_cast<char>(0x5A + i));
}

void flip_byte(const std::string& path, std::streamoff pos) {
  std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
  f.seekg(pos);
  char c = 0;
  f.get(c);
  f.seekp(pos);
  f.put(static_cast<char>(c ^ 0x01));
}

}  // namespace

TEST(Recovery, GarbageTailIsTruncatedAndAppendsContinue) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/t-0";
  uintmax_t good_size = 0;
  {
    auto log = open_log(dir);
    fill(*log, 10);
    good_size = fs::file_size(seg_path(dir, 0, ".log"));
  }  // no close(): a crash
  append_garbage(seg_path(dir, 0, ".log"), 37);
  auto log = open_log(dir);
  EXPECT_EQ(log->log_end_offset(), 20);
  EXPECT_EQ(log->high_watermark(), 20);  // what survived recovery is durable
  EXPECT_EQ(fs::file_size(seg_path(dir, 0, ".log")), good_size);
  auto b = build_batch(3);
  auto r = log->append(b, 0, 6000);
  EXPECT_EQ(r.base_offset, 20);
  expect_readable(*log);
}

TEST(Recovery, HalfWrittenLastBatchIsDropped) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/t-0";
  uintmax_t size_before_last = 0;
  {
    auto log = open_log(dir);
    fill(*log, 9);
    size_before_last = fs::file_size(seg_path(dir, 0, ".log"));
    fill(*log, 1);
  }
  auto full = fs::file_size(seg_path(dir, 0, ".log"));
  fs::resize_file(seg_path(dir, 0, ".log"), size_before_last + (full - size_before_last) / 2);
  auto log = open_log(dir);
  EXPECT_EQ(log->log_end_offset(), 18);
  EXPECT_EQ(fs::file_size(seg_path(dir, 0, ".log")), size_before_last);
  auto b = build_batch(1);
  EXPECT_EQ(log->append(b, 0, 6000).base_offset, 18);
  expect_readable(*log);
}

TEST(Recovery, CorruptMiddleBatchTruncatesThereAndDropsLaterSegments) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/t-0";
  std::vector<int64_t> bases;
  {
    auto log = open_log(dir, small_segments());
    fill(*log, 40);
    bases = log->segment_base_offsets();
    log->flush();
  }
  ASSERT_GE(bases.size(), 4u);
  // Corrupt a record byte of the second batch of the second segment.
  const std::string victim = seg_path(dir, bases[1], ".log");
  std::vector<uint8_t> bytes(200);
  {
    std::ifstream f(victim, std::ios::binary);
    f.read(reinterpret_cast<char*>(bytes.data()), 200);
  }
  const auto first_size = parse_batch_header(bytes).total_size();
  flip_byte(victim, first_size + 70);
  auto log = open_log(dir, small_segments());
  EXPECT_EQ(log->log_end_offset(), bases[1] + 2);  // only the first batch of that segment survives
  EXPECT_EQ(log->segment_base_offsets(), (std::vector<int64_t>{bases[0], bases[1]}));
  EXPECT_FALSE(fs::exists(seg_path(dir, bases[2], ".log")));
  EXPECT_FALSE(fs::exists(seg_path(dir, bases[2], ".index")));
  EXPECT_EQ(static_cast<int64_t>(fs::file_size(victim)), first_size);
  auto b = build_batch(2);
  EXPECT_EQ(log->append(b, 0, 6000).base_offset, bases[1] + 2);
  expect_readable(*log);
}

TEST(Recovery, DeletedIndexesAreRebuilt) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/t-0";
  std::vector<int64_t> bases;
  {
    auto log = open_log(dir, small_segments());
    fill(*log, 40);
    bases = log->segment_base_offsets();
    log->close();
  }
  for (int64_t base : bases) {
    fs::remove(seg_path(dir, base, ".index"));
    fs::remove(seg_path(dir, base, ".timeindex"));
  }
  auto log = open_log(dir, small_segments(), /*clean=*/true);
  EXPECT_EQ(log->log_end_offset(), 80);
  EXPECT_GT(fs::file_size(seg_path(dir, bases[0], ".index")), 0u);
  EXPECT_GT(fs::file_size(seg_path(dir, bases[0], ".timeindex")), 0u);
  expect_readable(*log);
  // Batch i holds offsets 2i, 2i+1 with timestamps 1000 + i and 1001 + i.
  EXPECT_EQ(log->offset_for_timestamp(1000 + 25 + 1), (RecordPosition{51, 1026}));
}

TEST(Recovery, GarbageIndexesAreRebuilt) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/t-0";
  std::vector<int64_t> bases;
  {
    auto log = open_log(dir, small_segments());
    fill(*log, 40);
    bases = log->segment_base_offsets();
    log->close();
  }
  append_garbage(seg_path(dir, bases[0], ".index"), 5);        // size not a multiple of 8
  {
    std::ofstream f(seg_path(dir, bases[1], ".index"), std::ios::binary | std::ios::trunc);
    for (int i = 0; i < 8; ++i) f.write("\x00\x00\x00\x05\x7f\x00\x00\x00", 8);  // not increasing, beyond file
  }
  append_garbage(seg_path(dir, bases[2], ".timeindex"), 24);   // entries that do not increase
  auto log = open_log(dir, small_segments(), /*clean=*/true);
  EXPECT_EQ(log->log_end_offset(), 80);
  expect_readable(*log);
  for (int i = 0; i < 40; ++i) {
    auto t = log->offset_for_timestamp(1000 + i);
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(t->offset, i == 0 ? 0 : 2 * i - 1);  // the previous batch's second record has it too
  }
}

TEST(Recovery, CleanShutdownSkipsTheScanOfClosedSegments) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/t-0";
  std::vector<int64_t> bases;
  {
    auto log = open_log(dir, small_segments());
    fill(*log, 40);
    bases = log->segment_base_offsets();
    log->close();
  }
  ASSERT_GE(bases.size(), 2u);
  // Close trimmed the active segment's indexes.
  EXPECT_LT(fs::file_size(seg_path(dir, bases.back(), ".index")), 100u);
  // A flipped record byte in a closed segment goes unnoticed with the clean marker (no CRC scan)...
  flip_byte(seg_path(dir, bases[0], ".log"), 100);
  {
    auto log = open_log(dir, small_segments(), /*clean=*/true);
    EXPECT_EQ(log->log_end_offset(), 80);
    log->close();
  }
  // ...but an unclean open finds it and truncates there.
  auto log = open_log(dir, small_segments(), /*clean=*/false);
  EXPECT_EQ(log->log_end_offset(), 0);
}

TEST(Recovery, CleanShutdownStillScansTheActiveSegment) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/t-0";
  {
    auto log = open_log(dir);
    fill(*log, 10);
    log->close();
  }
  // A complete-looking batch with a bad CRC appended after the shutdown is cut off.
  flip_byte(seg_path(dir, 0, ".log"), static_cast<std::streamoff>(fs::file_size(seg_path(dir, 0, ".log"))) - 3);
  auto log = open_log(dir, {}, /*clean=*/true);
  EXPECT_EQ(log->log_end_offset(), 18);
}

TEST(Recovery, SegmentsBeforeRecoveryPointAreNotScanned) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/t-0";
  std::vector<int64_t> bases;
  {
    auto log = open_log(dir, small_segments());
    fill(*log, 40);
    bases = log->segment_base_offsets();
    log->flush();
  }
  flip_byte(seg_path(dir, bases[0], ".log"), 100);   // below the recovery point: not scanned
  append_garbage(seg_path(dir, bases.back(), ".log"), 20);  // torn tail: scanned and cut
  auto log = open_log(dir, small_segments(), false, nullptr, /*recovery_point=*/bases[2]);
  EXPECT_EQ(log->log_end_offset(), 80);
}

TEST(Recovery, FullDiskFailsAppendWithoutCorruptingTheLog) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/t-0";
  FaultEnv env;
  auto log = open_log(dir, {}, false, &env);
  fill(*log, 3);
  env.write_budget = 30;  // the next batch is torn after 30 bytes
  auto b = build_batch(2, 40);
  EXPECT_EQ(log->append(b, 0, 6000).error, ErrorCode::kKafkaStorageError);
  EXPECT_EQ(log->log_end_offset(), 6);
  env.write_budget = -1;  // space freed
  auto c = build_batch(2, 40);
  EXPECT_EQ(log->append(c, 0, 6000).base_offset, 6);
  expect_readable(*log);
  EXPECT_EQ(log->flush(), 8);
  log.reset();
  auto reopened = open_log(dir);
  EXPECT_EQ(reopened->log_end_offset(), 8);
}

TEST(Recovery, FailedFsyncTakesLogOffline) {
  TempDir tmp;
  FaultEnv env;
  auto log = open_log(tmp.path() + "/t-0", {}, false, &env);
  fill(*log, 2);
  env.fail_sync = true;
  EXPECT_EQ(log->flush(), 0);
  EXPECT_TRUE(log->failed());
  EXPECT_EQ(log->high_watermark(), 0);
  auto b = build_batch(1);
  EXPECT_EQ(log->append(b, 0, 0).error, ErrorCode::kKafkaStorageError);
}
