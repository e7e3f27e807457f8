// Issue 8, crash loop: an idempotent acks=all producer and a consumer group
// run against a broker that is kill -9ed at random moments N times in a row.
// At the end every acknowledged record is present exactly once, in order, at
// the offset it was acknowledged with, and the group's committed offsets are
// ones the broker acknowledged to the consumer.
//
// N comes from RUNNEL_CRASH_LOOP_KILLS (default 40, about two minutes); the
// random moments from RUNNEL_CRASH_LOOP_SEED (default: time-based, printed, so
// a failing run can be repeated). The test is bounded in kills and in time.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "admin_client.h"
#include "broker_process.h"
#include "group_consumer.h"
#include "rdkafka_consumer.h"
#include "rdkafka_producer.h"

namespace runnel::it {
namespace {

constexpr int kPartitions = 3;
constexpr char kTopic[] = "crash-loop";
constexpr char kGroup[] = "crash-loop-group";

long EnvOr(const char* name, long fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtol(v, nullptr, 10) : fallback;
}

// Value "#<id>#" + padding: the id says where the record belongs in the order.
TestRecord Numbered(std::uint64_t id) {
  return TestRecord{"k" + std::to_string(id), "#" + std::to_string(id) + "#" + std::string(id % 200, 'x'), {}};
}

std::uint64_t IdOf(const std::string& value) {
  const auto end = value.find('#', 1);
  if (value.size() < 3 || value[0] != '#' || end == std::string::npos) return UINT64_MAX;
  return std::stoull(value.substr(1, end - 1));
}

TEST(CrashLoop, AcknowledgedRecordsAndCommitsSurviveRepeatedKill9) {
  const long kills = std::max(1L, EnvOr("RUNNEL_CRASH_LOOP_KILLS", 40));
  const auto seed = static_cast<std::uint64_t>(
      EnvOr("RUNNEL_CRASH_LOOP_SEED", std::chrono::system_clock::now().time_since_epoch().count() % 1000000));
  std::printf("[crash-loop] %ld kills, seed %llu (RUNNEL_CRASH_LOOP_SEED to repeat)\n", kills,
              static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  // Bounded in time too (ctest gives an integration test 300 s): the kill loop
  // stops early if it must (and the test then fails), verification has the rest.
  const auto started = std::chrono::steady_clock::now();
  const auto kill_deadline = started + std::chrono::seconds(std::min(20 + 10 * kills, 170L));
  const auto writer_deadline = started + std::chrono::seconds(240);

  // Checkpoints every second (Kafka's default is a minute): a restart then
  // recovers the segments written since, not the whole log, so the loop gets
  // through many kills in its time.
  BrokerProcess broker({"num.partitions=3", "group.initial.rebalance.delay.ms=0", "group.min.session.timeout.ms=500",
                        "log.flush.offset.checkpoint.interval.ms=1000", "offsets.topic.num.partitions=3"});
  ASSERT_TRUE(broker.start());
  {
    AdminClient admin(broker.bootstrap());
    // Small segments: rolls, index and producer snapshots are in play when the kill comes.
    ASSERT_EQ(admin.create_topic(kTopic, kPartitions, 1, {{"segment.bytes", "262144"}}).err,
              RD_KAFKA_RESP_ERR_NO_ERROR);
  }

  Producer producer(broker.bootstrap(), {{"enable.idempotence", "true"},
                                         {"acks", "all"},
                                         {"linger.ms", "5"},
                                         {"batch.num.messages", "200"},
                                         {"message.timeout.ms", "300000"},
                                         {"retry.backoff.ms", "20"},
                                         {"reconnect.backoff.ms", "10"},
                                         {"reconnect.backoff.max.ms", "200"},
                                         {"socket.timeout.ms", "10000"},
                                         {"queue.buffering.max.messages", "20000"}});
  ASSERT_TRUE(producer.ok()) << producer.error();
  ASSERT_EQ(producer.wait_for_topic(kTopic, std::chrono::seconds(30)), kPartitions);

  // Record id -> partition is fixed (id % partitions), so the ids of one
  // partition increase with the order they were produced in.
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> enqueued{0};
  std::thread writer([&] {
    for (std::uint64_t id = 0; !stop && std::chrono::steady_clock::now() < writer_deadline; ++id) {
      while (!stop && producer.produce(kTopic, static_cast<std::int32_t>(id % kPartitions), Numbered(id), id,
                                       std::chrono::milliseconds(100)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        producer.poll(10);
      }
      enqueued = id + 1;
      producer.poll(0);
      // At most ~10k records/s: enough traffic at every kill, and a bounded verification.
      if (id % 10 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });

  ConsumptionLog consumed;
  GroupConsumerOptions options;
  options.name = "member";
  options.group = kGroup;
  options.overrides = {{"session.timeout.ms", "6000"}, {"reconnect.backoff.max.ms", "200"}};
  auto consumer = std::make_unique<GroupConsumer>(broker.bootstrap(), options);
  ASSERT_TRUE(consumer->ok()) << consumer->error();
  ASSERT_TRUE(consumer->subscribe({kTopic}));
  consumer->start(&consumed);

  std::uniform_int_distribution<int> delay_ms(200, 3000);
  long done = 0;
  for (; done < kills && std::chrono::steady_clock::now() < kill_deadline; ++done) {
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    broker.kill9();
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng) / 10));
    ASSERT_TRUE(broker.start()) << "restart after kill -9 number " << done + 1;
  }
  std::printf("[crash-loop] %ld kills done in %lld s\n", done,
              static_cast<long long>(std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started).count()));
  EXPECT_EQ(done, kills) << "ran out of time";
  // Let both clients make progress against the final broker, then stop them.
  const std::size_t delivered_before = producer.delivery_count();
  const std::size_t consumed_before = consumer->consumed();
  EXPECT_TRUE(WaitUntil([&] { return producer.delivery_count() > delivered_before + 500; }, std::chrono::seconds(60)))
      << "producer made no progress after the last restart\n" << broker.stderr_tail();
  EXPECT_TRUE(WaitUntil([&] { return consumer->consumed() > consumed_before; }, std::chrono::seconds(60)))
      << "consumer made no progress after the last restart\n" << broker.stderr_tail();
  stop = true;
  writer.join();
  ASSERT_EQ(producer.flush(std::chrono::seconds(120)), RD_KAFKA_RESP_ERR_NO_ERROR);
  consumer->stop();
  consumer->close();
  const auto acked_commits = consumer->acked_commits();
  const auto commit_history = consumer->commit_history();
  consumer.reset();

  // Every acknowledged record: exactly once, in order, at its offset.
  const auto deliveries = producer.deliveries();
  std::map<std::int32_t, std::map<std::int64_t, std::uint64_t>> acked;  // partition -> offset -> id
  std::size_t failed = 0;
  for (const auto& d : deliveries) {
    if (d.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      ++failed;
      continue;
    }
    ASSERT_TRUE(acked[d.partition].emplace(d.offset, d.id).second) << "two records acknowledged at one offset";
  }
  std::size_t acked_total = 0, verified = 0;
  for (int p = 0; p < kPartitions; ++p) {
    SCOPED_TRACE("partition " + std::to_string(p));
    const auto& acks = acked[p];
    acked_total += acks.size();
    const Watermarks w = QueryWatermarks(broker.bootstrap(), kTopic, p);
    ASSERT_TRUE(w.error.empty()) << w.error;
    const PartitionContents contents = ReadPartition(broker.bootstrap(), kTopic, p, w.high);
    ASSERT_TRUE(contents.complete) << "read " << contents.records.size() << " of " << w.high;
    ASSERT_TRUE(contents.errors.empty()) << contents.errors.front();
    std::map<std::uint64_t, int> seen;
    std::size_t found = 0;
    std::uint64_t previous = 0;
    bool first = true;
    for (const auto& c : contents.records) {
      const std::uint64_t id = IdOf(c.record.value);
      ASSERT_NE(id, UINT64_MAX) << "offset " << c.offset << " holds a foreign record " << Describe(c.record);
      ASSERT_EQ(c.record, Numbered(id)) << "offset " << c.offset << " holds a damaged record";
      EXPECT_EQ(id % kPartitions, static_cast<std::uint64_t>(p));
      ASSERT_EQ(++seen[id], 1) << "record " << id << " is present twice (offset " << c.offset << ")";
      ASSERT_TRUE(first || id > previous) << "record " << id << " at offset " << c.offset << " follows " << previous;
      first = false;
      previous = id;
      auto it = acks.find(c.offset);
      if (it != acks.end()) {
        ASSERT_EQ(it->second, id) << "acknowledged offset " << c.offset << " holds another record";
        ++found;
      }
    }
    EXPECT_EQ(found, acks.size()) << "acknowledged records are missing";
    verified += found;
    for (const auto& [offset, id] : acks) {
      if (offset >= w.high) ADD_FAILURE() << "acknowledged record " << id << " at " << offset << " is past the end";
    }

    // The committed offset is one the broker acknowledged to the consumer (the last one).
    const auto committed = CommittedOffsets(broker.bootstrap(), kGroup, kTopic, kPartitions);
    ASSERT_EQ(committed.size(), static_cast<std::size_t>(kPartitions));
    const std::int64_t c = committed.at(p);
    if (c >= 0) {
      bool acknowledged = false;
      for (const auto& h : commit_history) acknowledged = acknowledged || (h.partition == p && h.offset == c);
      EXPECT_TRUE(acknowledged) << "committed offset " << c << " was never acknowledged to the consumer";
      auto last = acked_commits.find(p);
      ASSERT_NE(last, acked_commits.end());
      EXPECT_EQ(c, last->second) << "committed offset is not the last acknowledged commit";
      EXPECT_LE(c, w.high);
    }
  }
  std::printf("[crash-loop] kills %ld, produced %llu, acknowledged %zu, verified %zu, failed %zu, consumed %zu, "
              "commits acknowledged %zu\n",
              done, static_cast<unsigned long long>(enqueued.load()), acked_total, verified, failed, consumed.size(),
              commit_history.size());
  EXPECT_EQ(failed, 0u) << "an idempotent producer with a long message.timeout.ms should deliver everything";
  EXPECT_GT(acked_total, 1000u);
  EXPECT_EQ(broker.stop(), 0) << broker.stderr_tail();
}

}  // namespace
}  // namespace runnel::it
