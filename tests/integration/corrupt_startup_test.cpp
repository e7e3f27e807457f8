// Issue 8, corrupt files at startup: a truncated index, stray files, a flipped
// byte in a closed segment, a garbage and a missing checkpoint file. Each is
// detected and reported in one clear log line, then repaired (indexes rebuilt,
// the log truncated at the first invalid batch, as Kafka does) or isolated
// (stray files left alone), and the broker starts and serves what is intact.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "admin_client.h"
#include "broker_process.h"
#include "group_consumer.h"
#include "rdkafka_consumer.h"

namespace runnel::it {
namespace {

namespace fs = std::filesystem;
constexpr char kTopic[] = "corrupt";
constexpr int kPartitions = 3;
constexpr int kRounds = 12;
constexpr int kPerRound = 25;
constexpr int kRecords = kRounds * kPerRound;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}
void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

// The broker's output since `from` bytes (it is appended across restarts).
std::string LogSince(const BrokerProcess& broker, std::size_t from) { return ReadFile(broker.stderr_path()).substr(from); }

int CountLines(const std::string& log, const std::string& needle) {
  int n = 0;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) n += line.find(needle) != std::string::npos ? 1 : 0;
  return n;
}

std::int32_t Be32(const std::string& bytes, std::size_t pos) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data() + pos);
  return static_cast<std::int32_t>((std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) |
                                   (std::uint32_t(p[2]) << 8) | p[3]);
}

// Every record of the partition from `start`, checked against "p<p>-<offset>".
void ExpectIntact(const BrokerProcess& broker, int p, std::int64_t end, std::int64_t start = 0) {
  SCOPED_TRACE("partition " + std::to_string(p));
  const Watermarks w = QueryWatermarks(broker.bootstrap(), kTopic, p);
  ASSERT_TRUE(w.error.empty()) << w.error;
  EXPECT_EQ(w.high, end);
  const PartitionContents c = ReadPartition(broker.bootstrap(), kTopic, p, end, std::chrono::seconds(60), start);
  ASSERT_TRUE(c.complete && c.errors.empty()) << c.records.size() << " records; " << (c.errors.empty() ? "" : c.errors[0]);
  ASSERT_EQ(c.records.size(), static_cast<std::size_t>(end - start));
  for (const auto& r : c.records)
    ASSERT_EQ(r.record.value, "p" + std::to_string(p) + "-" + std::to_string(r.offset)) << "offset " << r.offset;
}

TEST(CorruptStartup, EachCorruptionIsReportedRepairedOrIsolatedAndTheBrokerStarts) {
  BrokerProcess broker;
  ASSERT_TRUE(broker.start());
  {
    AdminClient admin(broker.bootstrap());
    ASSERT_EQ(admin.create_topic(kTopic, kPartitions, 1, {{"segment.bytes", "2048"}, {"index.interval.bytes", "100"}}).err,
              RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  for (int round = 0; round < kRounds; ++round)
    ASSERT_EQ(ProduceNumbered(broker.bootstrap(), kTopic, kPartitions, round * kPerRound, kPerRound), "");
  ASSERT_EQ(broker.stop(), 0);
  const std::string first_log = broker.partition_dir(kTopic, 0) + "/00000000000000000000.log";
  ASSERT_GT(fs::file_size(first_log), 0u);
  ASSERT_GT(std::distance(fs::directory_iterator(broker.partition_dir(kTopic, 0)), fs::directory_iterator{}), 6)
      << "expected several segments";

  // 1. Truncated indexes and stray files, after a clean shutdown.
  fs::resize_file(broker.partition_dir(kTopic, 1) + "/00000000000000000000.index", 5);
  fs::resize_file(broker.partition_dir(kTopic, 2) + "/00000000000000000000.timeindex", 7);
  WriteFile(broker.log_dir() + "/junk.txt", "left here by someone\n");
  fs::create_directories(broker.log_dir() + "/not-a-partition");
  WriteFile(broker.partition_dir(kTopic, 2) + "/notes.bak", "stray\n");
  std::size_t mark = fs::file_size(broker.stderr_path());
  ASSERT_TRUE(broker.start());
  std::string log = LogSince(broker, mark);
  EXPECT_EQ(CountLines(log, "indexes of segment 0 are missing or inconsistent, rebuilding"), 2) << log;
  EXPECT_EQ(CountLines(log, "unexpected file 'junk.txt'"), 1) << log;
  EXPECT_EQ(CountLines(log, "unexpected directory 'not-a-partition'"), 1) << log;
  EXPECT_EQ(CountLines(log, "unexpected file 'notes.bak'"), 1) << log;
  for (int p = 0; p < kPartitions; ++p) ExpectIntact(broker, p, kRecords);
  ExpectIntact(broker, 1, kRecords, 60);  // an offset lookup through the rebuilt index
  EXPECT_TRUE(fs::exists(broker.log_dir() + "/junk.txt")) << "stray files are left alone";
  ASSERT_EQ(broker.stop(), 0);

  // 2. A flipped byte inside the second batch of a closed segment, and a
  // garbage recovery-point checkpoint (so nothing is trusted).
  std::string bytes = ReadFile(first_log);
  const std::size_t second = static_cast<std::size_t>(Be32(bytes, 8)) + 12;  // batchLength + log overhead
  const int first_batch_records = Be32(bytes, 57);                             // recordCount of batch 1
  ASSERT_GT(first_batch_records, 0);
  // The middle of the second batch's records (they start 61 bytes in), under
  // the CRC: a fixed distance would miss a batch of one short record (72 bytes).
  const std::size_t second_size = static_cast<std::size_t>(Be32(bytes, second + 8)) + 12;
  ASSERT_GT(second_size, 61u);
  ASSERT_LE(second + second_size, bytes.size());
  const std::size_t flip = second + 61 + (second_size - 61) / 2;
  bytes[flip] = static_cast<char>(bytes[flip] ^ 0x10);
  WriteFile(first_log, bytes);
  WriteFile(broker.log_dir() + "/recovery-point-offset-checkpoint", "0\nthis is\x01 not a checkpoint\n");
  mark = fs::file_size(broker.stderr_path());
  ASSERT_TRUE(broker.start());
  log = LogSince(broker, mark);
  EXPECT_EQ(CountLines(log, "malformed checkpoint file"), 1) << log;
  EXPECT_EQ(CountLines(log, "malformed recovery-point-offset-checkpoint: recovering every segment"), 1) << log;
  EXPECT_EQ(CountLines(log, "recovery found"), 1) << log;
  EXPECT_EQ(CountLines(log, "corrupt-0: recovery found"), 1) << log;
  // Kafka's rule: the log is cut at the first invalid batch; what precedes it is served.
  ExpectIntact(broker, 0, first_batch_records);
  for (int p = 1; p < kPartitions; ++p) ExpectIntact(broker, p, kRecords);
  // And it takes writes again at the new end.
  ASSERT_EQ(ProduceNumbered(broker.bootstrap(), kTopic, 1, first_batch_records, 5), "");
  ExpectIntact(broker, 0, first_batch_records + 5);
  ASSERT_EQ(broker.stop(), 0);

  // 3. A missing checkpoint: every segment is scanned, nothing is lost.
  fs::remove(broker.log_dir() + "/recovery-point-offset-checkpoint");
  fs::remove(broker.log_dir() + "/log-start-offset-checkpoint");
  mark = fs::file_size(broker.stderr_path());
  ASSERT_TRUE(broker.start());
  log = LogSince(broker, mark);
  EXPECT_EQ(CountLines(log, "missing recovery-point-offset-checkpoint: recovering every segment"), 1) << log;
  EXPECT_EQ(CountLines(log, "recovery found"), 0) << log;
  ExpectIntact(broker, 0, first_batch_records + 5);
  for (int p = 1; p < kPartitions; ++p) ExpectIntact(broker, p, kRecords);
  EXPECT_EQ(broker.stop(), 0);
}

}  // namespace
}  // namespace runnel::it
