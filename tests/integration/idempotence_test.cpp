// Acceptance (issue 5, idempotence): a librdkafka producer with
// enable.idempotence=true writes every record exactly once and in order, while
// (a) a proxy cuts its connections mid-request and mid-response, and (b) the
// broker is killed with SIGKILL and restarted under it; and (c) a producer left
// idle until the broker expired its state goes on without an error.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "admin_client.h"
#include "broker_process.h"
#include "group_consumer.h"
#include "rdkafka_consumer.h"
#include "rdkafka_producer.h"
#include "tcp_proxy.h"

namespace runnel::it {
namespace {

ClientConfig IdempotentConfig() {
  return {{"enable.idempotence", "true"},
          {"acks", "all"},
          {"linger.ms", "5"},
          {"batch.num.messages", "200"},
          {"message.timeout.ms", "180000"},
          {"retry.backoff.ms", "20"},
          {"reconnect.backoff.ms", "10"},
          {"reconnect.backoff.max.ms", "200"},
          {"socket.timeout.ms", "10000"}};
}

TestRecord Numbered(std::uint64_t id) { return TestRecord{"k" + std::to_string(id % 97), "#" + std::to_string(id), {}}; }

// Every id in [0, n) exactly once, in id order, at contiguous offsets from 0.
void ExpectExactlyOnceInOrder(const std::string& bootstrap, const std::string& topic, std::uint64_t n) {
  const auto contents = ReadPartition(bootstrap, topic, 0, static_cast<std::int64_t>(n), std::chrono::seconds(120));
  ASSERT_TRUE(contents.complete) << "read " << contents.records.size() << " of " << n;
  ASSERT_EQ(contents.records.size(), n);
  for (std::uint64_t i = 0; i < n; ++i) {
    const auto& r = contents.records[i];
    ASSERT_EQ(r.offset, static_cast<std::int64_t>(i));
    ASSERT_EQ(r.record.value, "#" + std::to_string(i)) << "at offset " << i;
  }
  EXPECT_EQ(QueryWatermarks(bootstrap, topic, 0).high, static_cast<std::int64_t>(n));
}

void ExpectAllDelivered(const Producer& producer, std::uint64_t n) {
  const auto deliveries = producer.deliveries();
  ASSERT_EQ(deliveries.size(), n);
  for (const auto& d : deliveries) {
    ASSERT_EQ(d.err, RD_KAFKA_RESP_ERR_NO_ERROR) << "record " << d.id << ": " << rd_kafka_err2str(d.err);
    EXPECT_EQ(d.offset, static_cast<std::int64_t>(d.id)) << "record " << d.id;
  }
}

}  // namespace

TEST(Idempotence, ExactlyOnceWhileAProxyCutsConnections) {
  const std::uint16_t proxy_port = PickFreeLoopbackPort();
  // Clients must come back through the proxy, so the broker advertises its port.
  BrokerProcess broker({"advertised.listeners=PLAINTEXT://127.0.0.1:" + std::to_string(proxy_port)});
  ASSERT_TRUE(broker.start());
  TcpProxy proxy(proxy_port, broker.port());
  ASSERT_TRUE(proxy.ok());
  const std::string bootstrap = "127.0.0.1:" + std::to_string(proxy_port);
  {
    AdminClient admin(bootstrap);
    ASSERT_EQ(admin.create_topic("idem", 1).err, RD_KAFKA_RESP_ERR_NO_ERROR);
  }

  constexpr std::uint64_t kRecords = 20000;
  Producer producer(bootstrap, IdempotentConfig());
  ASSERT_TRUE(producer.ok()) << producer.error();
  ASSERT_GE(producer.wait_for_topic("idem", std::chrono::seconds(30)), 1);
  proxy.set_cut_after(16000);  // every connection dies after up to 16 KB
  for (std::uint64_t id = 0; id < kRecords; ++id) {
    ASSERT_EQ(producer.produce("idem", 0, Numbered(id), id), RD_KAFKA_RESP_ERR_NO_ERROR);
    if (id % 100 == 0) producer.poll(1);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(150);
  while (producer.outstanding() > 0 && std::chrono::steady_clock::now() < deadline) producer.poll(50);
  proxy.set_cut_after(0);
  ASSERT_EQ(producer.flush(std::chrono::seconds(30)), RD_KAFKA_RESP_ERR_NO_ERROR);
  EXPECT_GT(proxy.cuts(), 10u) << "the proxy should have cut connections";
  ExpectAllDelivered(producer, kRecords);
  ExpectExactlyOnceInOrder(bootstrap, "idem", kRecords);
}

TEST(Idempotence, ExactlyOnceAcrossKill9AndRestart) {
  BrokerProcess broker;
  ASSERT_TRUE(broker.start());
  {
    AdminClient admin(broker.bootstrap());
    // Small segments: rolls (and producer snapshots) happen while producing.
    ASSERT_EQ(admin.create_topic("idem", 1, 1, {{"segment.bytes", "65536"}}).err, RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  constexpr std::uint64_t kRecords = 20000;
  Producer producer(broker.bootstrap(), IdempotentConfig());
  ASSERT_TRUE(producer.ok()) << producer.error();
  std::atomic<std::uint64_t> enqueued{0};
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    for (std::uint64_t id = 0; id < kRecords && !stop && std::chrono::steady_clock::now() < deadline; ++id) {
      while (!stop && producer.produce("idem", 0, Numbered(id), id, std::chrono::milliseconds(100)) !=
                          RD_KAFKA_RESP_ERR_NO_ERROR) {
        producer.poll(10);
      }
      enqueued = id + 1;
      if (id % 50 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  for (int round = 0; round < 2; ++round) {
    const std::uint64_t target = kRecords * (round + 1) / 3;
    const auto wait_until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (producer.delivery_count() < target && std::chrono::steady_clock::now() < wait_until) producer.poll(5);
    broker.kill9();  // with batches in flight
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    ASSERT_TRUE(broker.start());
  }
  writer.join();
  ASSERT_EQ(enqueued.load(), kRecords);
  ASSERT_EQ(producer.flush(std::chrono::seconds(150)), RD_KAFKA_RESP_ERR_NO_ERROR);
  ExpectAllDelivered(producer, kRecords);
  ExpectExactlyOnceInOrder(broker.bootstrap(), "idem", kRecords);
}

TEST(Idempotence, AnIdleProducerWhoseStateExpiredGoesOnWithoutAnError) {
  // The broker forgets the producer between the two halves. Its next batch is
  // past sequence 0: the broker must tell it to reset (UNKNOWN_PRODUCER_ID),
  // which librdkafka does safely with nothing in flight; OUT_OF_ORDER_SEQUENCE_NUMBER
  // would be fatal to it ("sequence desynchronization").
  BrokerProcess broker({"producer.id.expiration.ms=1000", "producer.id.expiration.check.interval.ms=100"});
  ASSERT_TRUE(broker.start());
  {
    AdminClient admin(broker.bootstrap());
    ASSERT_EQ(admin.create_topic("idem", 1).err, RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  constexpr std::uint64_t kHalf = 300;
  Producer producer(broker.bootstrap(), IdempotentConfig());
  ASSERT_TRUE(producer.ok()) << producer.error();
  for (std::uint64_t id = 0; id < 2 * kHalf; ++id) {
    if (id == kHalf) {
      ASSERT_EQ(producer.flush(std::chrono::seconds(30)), RD_KAFKA_RESP_ERR_NO_ERROR);
      ASSERT_TRUE(WaitUntil(
          [&] { return broker.stderr_tail(400).find("expired the state of 1 idle producer") != std::string::npos; },
          std::chrono::seconds(20), std::chrono::milliseconds(50)))
          << broker.stderr_tail();
    }
    ASSERT_EQ(producer.produce("idem", 0, Numbered(id), id), RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  ASSERT_EQ(producer.flush(std::chrono::seconds(30)), RD_KAFKA_RESP_ERR_NO_ERROR);
  ExpectAllDelivered(producer, 2 * kHalf);
  ExpectExactlyOnceInOrder(broker.bootstrap(), "idem", 2 * kHalf);
  EXPECT_EQ(broker.stop(), 0) << broker.stderr_tail();
}

}  // namespace runnel::it
