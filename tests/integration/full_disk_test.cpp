// Issue 8, full disk: a broker whose log.dirs is a small tmpfs that fills up
// answers Produce with KAFKA_STORAGE_ERROR (56, what Kafka returns for an I/O
// error in the log), keeps serving fetches and group traffic, corrupts
// nothing, and accepts writes again once space is freed (here: an operator
// deletes the topic that filled the disk), without a restart.
//
// Needs to mount a tmpfs (root with CAP_SYS_ADMIN); skipped otherwise.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/statvfs.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "admin_client.h"
#include "broker_process.h"
#include "group_consumer.h"
#include "kafka_requests.h"
#include "raw_connection.h"
#include "rdkafka_consumer.h"
#include "rdkafka_producer.h"
#include "record_batch_builder.h"

namespace runnel::it {
namespace {

constexpr std::int16_t kKafkaStorageError = 56;

class SmallTmpfs {
 public:
  explicit SmallTmpfs(const std::string& size) {
    char pattern[] = "/tmp/runnel-full-disk-XXXXXX";
    if (!mkdtemp(pattern)) return;
    dir_ = pattern;
    const std::string options = "size=" + size;
    if (::mount("tmpfs", dir_.c_str(), "tmpfs", 0, options.c_str()) != 0) {
      why_ = std::string("mount -t tmpfs failed: ") + std::strerror(errno);
      return;
    }
    mounted_ = true;
  }
  ~SmallTmpfs() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  bool mounted() const { return mounted_; }
  const std::string& why() const { return why_; }
  const std::string& dir() const { return dir_; }
  std::uint64_t free_bytes() const {
    struct statvfs st {};
    return statvfs(dir_.c_str(), &st) == 0 ? st.f_bavail * st.f_frsize : 0;
  }

 private:
  std::string dir_;
  std::string why_;
  bool mounted_ = false;
};

Bytes BatchOfSize(std::size_t value_bytes, int records, const std::string& tag) {
  std::vector<TestRecord> rs;
  for (int i = 0; i < records; ++i)
    rs.push_back(TestRecord{tag + std::to_string(i), std::string(value_bytes / static_cast<std::size_t>(records), 'v'), {}});
  return BuildRecordBatch(rs);
}

// One Produce v3 (acks=-1) on `conn`; the partition error, or -1 on a transport failure.
std::int16_t ProduceRaw(RawConnection& conn, int correlation, const std::string& topic, const Bytes& records) {
  if (!conn.send(ProduceV3Request(correlation, topic, 0, records))) return -1;
  auto frame = conn.read_frame(std::chrono::seconds(30));
  if (!frame) return -1;
  auto response = ParseProduceV3Response(*frame);
  if (!response.parsed || response.partitions.size() != 1) return -1;
  return response.partitions[0].error;
}

TEST(FullDisk, ProduceGetsStorageErrorReadsAndGroupsContinueAndWritesResumeOnceSpaceIsFreed) {
  SmallTmpfs disk("12m");
  if (!disk.mounted()) GTEST_SKIP() << "cannot mount a tmpfs for the full-disk test (" << disk.why() << ")";
  BrokerProcess broker({"log.dirs=" + disk.dir() + "/logs", "offsets.topic.num.partitions=1",
                        "log.segment.bytes=1048576", "group.initial.rebalance.delay.ms=0",
                        "group.min.session.timeout.ms=500"});
  ASSERT_TRUE(broker.start());
  {
    AdminClient admin(broker.bootstrap());
    ASSERT_EQ(admin.create_topic("data", 1).err, RD_KAFKA_RESP_ERR_NO_ERROR);
    ASSERT_EQ(admin.create_topic("ballast", 1).err, RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  ASSERT_EQ(ProduceNumbered(broker.bootstrap(), "data", 1, 0, 100), "");

  // A group member that has consumed and committed everything so far.
  ConsumptionLog consumed;
  GroupConsumerOptions options;
  options.name = "m";
  options.group = "full-disk-group";
  GroupConsumer member(broker.bootstrap(), options);
  ASSERT_TRUE(member.ok()) << member.error();
  ASSERT_TRUE(member.subscribe({"data"}));
  member.start(&consumed);
  ASSERT_TRUE(WaitUntil([&] { return member.acked_commits()[0] == 100; }, std::chrono::seconds(60)))
      << "consumed " << member.consumed() << "\n" << broker.stderr_tail();
  const int rebalances_before = member.rebalances();

  // Fill the disk through the broker: big batches, then smaller ones, until even
  // a 1 KB batch is refused. Every refusal must be KAFKA_STORAGE_ERROR.
  RawConnection conn;
  ASSERT_TRUE(conn.connect(broker.port()));
  int correlation = 1;
  std::int64_t ballast_acked = 0;
  int refusals = 0;
  for (std::size_t size : {256u << 10, 32u << 10, 1u << 10}) {
    for (int i = 0; i < 200; ++i) {
      const std::int16_t error = ProduceRaw(conn, correlation++, "ballast", BatchOfSize(size, 4, "b"));
      ASSERT_NE(error, -1) << "produce failed at transport level: " << conn.last_error() << "\n" << broker.stderr_tail();
      if (error == 0) {
        ballast_acked += 4;
        continue;
      }
      ASSERT_EQ(error, kKafkaStorageError) << "a full disk must give KAFKA_STORAGE_ERROR";
      ++refusals;
      break;
    }
  }
  ASSERT_EQ(refusals, 3) << "the disk never filled (free " << disk.free_bytes() << " bytes)";
  std::printf("[full-disk] filled with %lld ballast records; free bytes %llu\n", static_cast<long long>(ballast_acked),
              static_cast<unsigned long long>(disk.free_bytes()));
  // Other partitions are refused too (a write needing a new page), on this and a new connection.
  EXPECT_EQ(ProduceRaw(conn, correlation++, "data", BatchOfSize(64 << 10, 4, "d")), kKafkaStorageError);

  // Reads go on: everything acknowledged is there, intact.
  const Watermarks ballast_marks = QueryWatermarks(broker.bootstrap(), "ballast", 0);
  ASSERT_TRUE(ballast_marks.error.empty()) << ballast_marks.error;
  EXPECT_EQ(ballast_marks.high, ballast_acked);
  const PartitionContents ballast = ReadPartition(broker.bootstrap(), "ballast", 0, ballast_marks.high);
  EXPECT_TRUE(ballast.complete && ballast.errors.empty()) << ballast.records.size() << " of " << ballast_marks.high;
  const PartitionContents data = ReadPartition(broker.bootstrap(), "data", 0, 100);
  ASSERT_TRUE(data.complete && data.errors.empty());
  for (int i = 0; i < 100; ++i) EXPECT_EQ(data.records[static_cast<std::size_t>(i)].record.value, "p0-" + std::to_string(i));

  // Group traffic goes on: the member keeps its assignment (heartbeats), and
  // its committed offset can be fetched.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  EXPECT_EQ(member.rebalances(), rebalances_before) << "the member was thrown out of the group";
  EXPECT_EQ(member.assignment(), std::set<std::int32_t>{0});
  auto committed = CommittedOffsets(broker.bootstrap(), "full-disk-group", "data", 1);
  ASSERT_EQ(committed.size(), 1u);
  EXPECT_EQ(committed[0], 100);

  // Free space: delete the topic that filled the disk. Writes are accepted
  // again without a restart (the producer retries until they are).
  {
    AdminClient admin(broker.bootstrap());
    ASSERT_EQ(admin.delete_topic("ballast").err, RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  ASSERT_TRUE(WaitUntil([&] { return disk.free_bytes() > (4u << 20); }, std::chrono::seconds(30)))
      << "deleting the topic freed no space: " << disk.free_bytes();
  std::int16_t after = -1;
  ASSERT_TRUE(WaitUntil([&] {
    after = ProduceRaw(conn, correlation++, "data", BatchOfSize(64 << 10, 4, "d"));
    return after == 0;
  }, std::chrono::seconds(30), std::chrono::milliseconds(200)))
      << "produce still fails after space was freed: " << after << "\n" << broker.stderr_tail();
  ASSERT_EQ(ProduceNumbered(broker.bootstrap(), "data", 1, 100, 10), "");
  // The member consumes and commits again.
  ASSERT_TRUE(WaitUntil([&] { return member.acked_commits()[0] == 114; }, std::chrono::seconds(60)))
      << "commit after space was freed: " << member.acked_commits()[0] << "\n" << broker.stderr_tail();
  member.stop();
  member.close();

  // Nothing was corrupted: a restart finds no bad batch, and the log reads back whole.
  ASSERT_EQ(broker.stop(), 0) << broker.stderr_tail();
  ASSERT_TRUE(broker.start());
  const PartitionContents reread = ReadPartition(broker.bootstrap(), "data", 0, 114);
  ASSERT_TRUE(reread.complete && reread.errors.empty()) << reread.records.size() << " of 114";
  for (int i = 0; i < 100; ++i) EXPECT_EQ(reread.records[static_cast<std::size_t>(i)].record.value, "p0-" + std::to_string(i));
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(reread.records[static_cast<std::size_t>(104 + i)].record.value, "p0-" + std::to_string(100 + i));
  EXPECT_EQ(broker.stop(), 0);
  std::ifstream log(broker.stderr_path());
  std::stringstream text;
  text << log.rdbuf();
  EXPECT_EQ(text.str().find("recovery found"), std::string::npos) << "a restart after the full disk found damage";
}

}  // namespace
}  // namespace runnel::it
