// The one interface every system under test is driven through, so that each
// workload (produce, consume, end-to-end) is the same loop whatever the
// system: Kafka protocol via librdkafka (Runnel and librdkafka's mock
// cluster), Redis Streams via hiredis, NATS JetStream via its text protocol.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace runnel::bench {

struct DriverOptions {
  std::string system = "kafka";  // kafka | redis | nats
  std::string bootstrap = "127.0.0.1:9092";
  std::string topic = "bench";
  int partitions = 1;
  int replication_factor = 1;  // kafka: replicas of the topic it creates
  int acks = -1;           // kafka acks (-1 = all)
  int linger_ms = 5;       // kafka linger.ms
  int batch_size = 1000000;  // kafka batch.size (bytes)
  std::string compression = "none";
  bool keys = false;       // send a key with every record
  bool create_topic = true;  // create the topic/stream in setup
  int fetch_wait_ms = 100;   // kafka fetch.wait.max.ms
  int window = 1000;         // redis/nats: publishes in flight before waiting for acks
  std::string group = "runnel-bench";
};

// Called once per acknowledged record with the tag given to send(), and
// whether the system acknowledged it as stored.
using AckHandler = std::function<void(uint64_t tag, bool ok)>;
// Called once per consumed record with its value.
using RecordHandler = std::function<void(std::string_view value)>;

class Producer {
 public:
  virtual ~Producer() = default;
  // Creates the topic (or stream) if the options ask for it.
  virtual void setup() = 0;
  // Queues one record for partition (tag % partitions); may block while the
  // client's window is full, serving acks meanwhile.
  virtual void send(std::string_view key, std::string_view value, uint64_t tag) = 0;
  // Serves acknowledgements that have arrived, waiting up to timeout_ms.
  virtual void poll(int timeout_ms) = 0;
  // Waits until every sent record is acknowledged.
  virtual void flush() = 0;
  void on_ack(AckHandler handler) { ack_ = std::move(handler); }

 protected:
  AckHandler ack_;
};

class Consumer {
 public:
  virtual ~Consumer() = default;
  // Subscribes (from the beginning when from_start, else only new records).
  virtual void start(bool from_start) = 0;
  // Delivers the records that arrive within timeout_ms; returns how many.
  virtual std::size_t poll(int timeout_ms, const RecordHandler& handler) = 0;
  // True once the consumer is positioned and will see new records (e.g. its
  // group assignment has arrived).
  virtual bool ready() { return true; }
};

std::unique_ptr<Producer> make_producer(const DriverOptions& options);
std::unique_ptr<Consumer> make_consumer(const DriverOptions& options);

// Per-system factories (driver.cpp dispatches on options.system).
std::unique_ptr<Producer> make_kafka_producer(const DriverOptions& options);
std::unique_ptr<Consumer> make_kafka_consumer(const DriverOptions& options);
std::unique_ptr<Producer> make_redis_producer(const DriverOptions& options);
std::unique_ptr<Consumer> make_redis_consumer(const DriverOptions& options);
std::unique_ptr<Producer> make_nats_producer(const DriverOptions& options);
std::unique_ptr<Consumer> make_nats_consumer(const DriverOptions& options);

}  // namespace runnel::bench
