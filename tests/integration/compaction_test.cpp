// Acceptance (issue 5, compaction): 100,000 updates over 1,000 keys (some
// deleted) compact to the last value per key at unchanged offsets; tombstones
// go after delete.retention.ms; the same with each compression codec; keyless
// records are refused; and kill -9 during cleaning loses nothing.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <random>
#include <thread>

#include "admin_client.h"
#include "broker_process.h"
#include "rdkafka_consumer.h"
#include "rdkafka_producer.h"

namespace runnel::it {
namespace {

using Clock = std::chrono::steady_clock;

struct Final {
  std::map<std::string, std::pair<int64_t, std::string>> last;  // key -> (offset, value; "" = tombstone)
};

// Update i sets key (i * 7919) % keys to "v<i>", or deletes it every 13th update.
Final ProduceUpdates(const std::string& bootstrap, const std::string& topic, int updates, int keys,
                     const std::string& codec = "none") {
  Producer producer(bootstrap, {{"linger.ms", "20"}, {"batch.num.messages", "1000"}, {"compression.type", codec}});
  EXPECT_TRUE(producer.ok()) << producer.error();
  std::vector<std::pair<std::string, std::string>> ops(static_cast<size_t>(updates));
  for (int i = 0; i < updates; ++i) {
    const std::string key = "key-" + std::to_string((static_cast<int64_t>(i) * 7919) % keys);
    const std::string value = i % 13 == 0 ? std::string() : "v" + std::to_string(i);
    ops[static_cast<size_t>(i)] = {key, value};
    for (int attempt = 0; attempt < 1000; ++attempt) {
      auto err = rd_kafka_producev(
          producer.handle(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(0),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(const_cast<char*>(key.data()), key.size()),
          RD_KAFKA_V_VALUE(value.empty() ? nullptr : const_cast<char*>(value.data()), value.size()),
          RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<std::uintptr_t>(i))), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      producer.poll(10);
    }
    producer.poll(0);
  }
  EXPECT_EQ(producer.flush(std::chrono::seconds(120)), RD_KAFKA_RESP_ERR_NO_ERROR);
  Final final;
  for (const auto& d : producer.deliveries()) {
    EXPECT_EQ(d.err, RD_KAFKA_RESP_ERR_NO_ERROR);
    const auto& [key, value] = ops[d.id];
    auto& slot = final.last[key];
    if (d.offset >= slot.first) slot = {d.offset, value};
  }
  return final;
}

// Distinct filler keys, large enough to roll the segment so the updates are all closed.
void RollWithFiller(const std::string& bootstrap, const std::string& topic, int bytes) {
  Producer producer(bootstrap, {{"linger.ms", "0"}});
  for (int i = 0; i * 1000 < bytes; ++i)
    ASSERT_EQ(producer.produce(topic, 0, TestRecord{"filler-" + std::to_string(i), std::string(1000, 'f'), {}},
                               static_cast<std::uint64_t>(i)),
              RD_KAFKA_RESP_ERR_NO_ERROR);
  ASSERT_EQ(producer.flush(std::chrono::seconds(60)), RD_KAFKA_RESP_ERR_NO_ERROR);
}

struct Seen {
  size_t records = 0;      // non-filler records read
  size_t tombstones = 0;   // non-filler null values
  std::map<std::string, std::pair<int64_t, std::string>> last;
};

Seen ReadState(const std::string& bootstrap, const std::string& topic) {
  Seen seen;
  const auto contents = ReadWholePartition(bootstrap, topic, 0, std::chrono::seconds(60));
  for (const auto& r : contents.records) {
    const std::string key = r.record.key.value_or("");
    if (key.starts_with("filler-")) continue;
    ++seen.records;
    if (r.record.value.empty()) ++seen.tombstones;
    seen.last[key] = {r.offset, r.record.value};
  }
  return seen;
}

// The consumer's view from the start: the final value of every key, at the offset it was written.
void ExpectFinalState(const Seen& seen, const Final& final) {
  for (const auto& [key, want] : final.last) {
    auto it = seen.last.find(key);
    if (want.second.empty()) {
      // Deleted: either still a tombstone at its offset, or gone.
      if (it != seen.last.end()) {
        EXPECT_EQ(it->second, want) << key;
      }
      continue;
    }
    ASSERT_NE(it, seen.last.end()) << key;
    EXPECT_EQ(it->second, want) << key;
  }
}

// Waits (bounded) until the cleaner has brought the topic down to at most `max_records`.
Seen WaitForCompaction(const std::string& bootstrap, const std::string& topic, size_t max_records,
                       bool without_tombstones, std::chrono::seconds timeout) {
  Seen seen;
  const auto deadline = Clock::now() + timeout;
  do {
    seen = ReadState(bootstrap, topic);
    if (seen.records <= max_records && (!without_tombstones || seen.tombstones == 0)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  } while (Clock::now() < deadline);
  return seen;
}

const std::map<std::string, std::string> kCompactTopic = {{"cleanup.policy", "compact"},
                                                          {"segment.bytes", "65536"},
                                                          {"min.cleanable.dirty.ratio", "0.01"},
                                                          {"delete.retention.ms", "3000"}};

std::vector<std::string> CleanerSettings() { return {"log.cleaner.backoff.ms=200"}; }

}  // namespace

TEST(Compaction, HundredThousandUpdatesCompactToTheLastValuePerKey) {
  BrokerProcess broker(CleanerSettings());
  ASSERT_TRUE(broker.start());
  AdminClient admin(broker.bootstrap());
  ASSERT_EQ(admin.create_topic("compacted", 1, 1, kCompactTopic).err, RD_KAFKA_RESP_ERR_NO_ERROR);
  const Final final = ProduceUpdates(broker.bootstrap(), "compacted", 100000, 1000);
  ASSERT_EQ(final.last.size(), 1000u);
  RollWithFiller(broker.bootstrap(), "compacted", 100000);

  const Seen compacted = WaitForCompaction(broker.bootstrap(), "compacted", 1000, false, std::chrono::seconds(90));
  EXPECT_LE(compacted.records, 1000u);
  ExpectFinalState(compacted, final);
  // Tombstones outlive delete.retention.ms only until the next pass.
  const Seen clean = WaitForCompaction(broker.bootstrap(), "compacted", 1000, true, std::chrono::seconds(90));
  EXPECT_EQ(clean.tombstones, 0u);
  ExpectFinalState(clean, final);
  size_t live = 0;
  for (const auto& [key, v] : final.last) live += v.second.empty() ? 0 : 1;
  EXPECT_EQ(clean.records, live);
}

TEST(Compaction, EveryCodecCompacts) {
  BrokerProcess broker(CleanerSettings());
  ASSERT_TRUE(broker.start());
  AdminClient admin(broker.bootstrap());
  for (const std::string codec : {"gzip", "snappy", "lz4", "zstd"}) {
    SCOPED_TRACE(codec);
    const std::string topic = "compacted-" + codec;
    ASSERT_EQ(admin.create_topic(topic, 1, 1, kCompactTopic).err, RD_KAFKA_RESP_ERR_NO_ERROR);
    const Final final = ProduceUpdates(broker.bootstrap(), topic, 20000, 200, codec);
    RollWithFiller(broker.bootstrap(), topic, 100000);
    const Seen seen = WaitForCompaction(broker.bootstrap(), topic, 200, false, std::chrono::seconds(90));
    EXPECT_LE(seen.records, 200u);
    ExpectFinalState(seen, final);
  }
}

TEST(Compaction, KeylessRecordsAreRefusedWithInvalidRecord) {
  BrokerProcess broker;
  ASSERT_TRUE(broker.start());
  AdminClient admin(broker.bootstrap());
  ASSERT_EQ(admin.create_topic("keyed", 1, 1, {{"cleanup.policy", "compact"}}).err, RD_KAFKA_RESP_ERR_NO_ERROR);
  Producer producer(broker.bootstrap(), {{"linger.ms", "0"}, {"retries", "0"}, {"compression.type", "lz4"}});
  // Separate requests: Kafka refuses the whole batch that holds a keyless record.
  ASSERT_EQ(producer.produce("keyed", 0, TestRecord{std::nullopt, "no key", {}}, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
  producer.flush(std::chrono::seconds(30));
  ASSERT_EQ(producer.produce("keyed", 0, TestRecord{"k", "keyed", {}}, 2), RD_KAFKA_RESP_ERR_NO_ERROR);
  producer.flush(std::chrono::seconds(30));
  std::map<std::uint64_t, rd_kafka_resp_err_t> errors;
  for (const auto& d : producer.deliveries()) errors[d.id] = d.err;
  EXPECT_EQ(errors[1], RD_KAFKA_RESP_ERR_INVALID_RECORD);
  EXPECT_EQ(errors[2], RD_KAFKA_RESP_ERR_NO_ERROR);
}

TEST(Compaction, Kill9DuringCleaningLosesNothing) {
  BrokerProcess broker({"log.cleaner.backoff.ms=50"});
  ASSERT_TRUE(broker.start());
  {
    AdminClient admin(broker.bootstrap());
    auto config = kCompactTopic;
    config["segment.bytes"] = "16384";
    config["delete.retention.ms"] = "86400000";
    ASSERT_EQ(admin.create_topic("crashy", 1, 1, config).err, RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  const Final written = ProduceUpdates(broker.bootstrap(), "crashy", 40000, 500);
  RollWithFiller(broker.bootstrap(), "crashy", 20000);
  std::mt19937 rng(5);
  for (int round = 0; round < 6; ++round) {
    broker.kill9();
    ASSERT_TRUE(broker.start());
    std::this_thread::sleep_for(std::chrono::milliseconds(20 + rng() % 300));  // the cleaner is at work
  }
  const Seen seen = WaitForCompaction(broker.bootstrap(), "crashy", 500, false, std::chrono::seconds(90));
  EXPECT_LE(seen.records, 500u);
  ExpectFinalState(seen, written);
  // A clean stop aborts a pass in progress without leaving half-done files
  // (leftovers of a crash are resolved when the log opens: see the storage tests).
  ASSERT_EQ(broker.stop(), 0);
  for (const auto& e : std::filesystem::directory_iterator(broker.partition_dir("crashy", 0))) {
    const auto name = e.path().filename().string();
    EXPECT_FALSE(name.ends_with(".cleaned") || name.ends_with(".swap")) << name;
  }
  ASSERT_TRUE(broker.start());
  ExpectFinalState(ReadState(broker.bootstrap(), "crashy"), written);
}

}  // namespace runnel::it
