// Kafka protocol driver on librdkafka: Runnel and librdkafka's mock cluster.
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "driver.h"

namespace runnel::bench {
namespace {

void set(rd_kafka_conf_t* conf, const char* key, const std::string& value) {
  char error[512];
  if (rd_kafka_conf_set(conf, key, value.c_str(), error, sizeof error) != RD_KAFKA_CONF_OK) {
    throw std::runtime_error(std::string("librdkafka config ") + key + ": " + error);
  }
}

void create_topic(rd_kafka_t* rk, const std::string& topic, int partitions, int replication_factor) {
  char error[512];
  rd_kafka_NewTopic_t* new_topic =
      rd_kafka_NewTopic_new(topic.c_str(), partitions, replication_factor, error, sizeof error);
  if (!new_topic) throw std::runtime_error(std::string("NewTopic: ") + error);
  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk);
  rd_kafka_AdminOptions_t* options = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_operation_timeout(options, 60000, error, sizeof error);
  rd_kafka_CreateTopics(rk, &new_topic, 1, options, queue);
  rd_kafka_event_t* event = rd_kafka_queue_poll(queue, 120000);
  std::string failure;
  if (!event) {
    failure = "CreateTopics timed out";
  } else if (rd_kafka_event_error(event)) {
    failure = rd_kafka_event_error_string(event);
  } else {
    const rd_kafka_CreateTopics_result_t* result = rd_kafka_event_CreateTopics_result(event);
    size_t count = 0;
    const rd_kafka_topic_result_t** topics = rd_kafka_CreateTopics_result_topics(result, &count);
    for (size_t i = 0; i < count; ++i) {
      rd_kafka_resp_err_t err = rd_kafka_topic_result_error(topics[i]);
      if (err && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) failure = rd_kafka_err2str(err);
    }
  }
  if (event) rd_kafka_event_destroy(event);
  rd_kafka_AdminOptions_destroy(options);
  rd_kafka_queue_destroy(queue);
  rd_kafka_NewTopic_destroy(new_topic);
  if (!failure.empty()) throw std::runtime_error("CreateTopics " + topic + ": " + failure);
}

class KafkaProducer final : public Producer {
 public:
  explicit KafkaProducer(const DriverOptions& options) : options_(options) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", options.bootstrap);
    set(conf, "acks", std::to_string(options.acks));
    set(conf, "linger.ms", std::to_string(options.linger_ms));
    set(conf, "batch.size", std::to_string(options.batch_size));
    set(conf, "compression.type", options.compression);
    set(conf, "queue.buffering.max.messages", "1000000");
    set(conf, "queue.buffering.max.kbytes", "1048576");
    set(conf, "enable.idempotence", "false");
    set(conf, "message.max.bytes", "1000000");
    rd_kafka_conf_set_opaque(conf, this);
    rd_kafka_conf_set_dr_msg_cb(conf, [](rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
      auto* self = static_cast<KafkaProducer*>(opaque);
      if (self->ack_) {
        self->ack_(reinterpret_cast<uint64_t>(message->_private), message->err == RD_KAFKA_RESP_ERR_NO_ERROR);
      }
    });
    char error[512];
    rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
    if (!rk_) throw std::runtime_error(std::string("rd_kafka_new: ") + error);
  }
  ~KafkaProducer() override {
    rd_kafka_flush(rk_, 10000);
    rd_kafka_destroy(rk_);
  }

  void setup() override {
    if (options_.create_topic) create_topic(rk_, options_.topic, options_.partitions, options_.replication_factor);
    // Wait for metadata so the first batch does not pay for topic lookup.
    const rd_kafka_metadata_t* metadata = nullptr;
    rd_kafka_topic_t* topic = rd_kafka_topic_new(rk_, options_.topic.c_str(), nullptr);
    rd_kafka_metadata(rk_, 0, topic, &metadata, 30000);
    if (metadata) rd_kafka_metadata_destroy(metadata);
    rd_kafka_topic_destroy(topic);
  }

  void send(std::string_view key, std::string_view value, uint64_t tag) override {
    const int32_t partition = static_cast<int32_t>(tag % static_cast<uint64_t>(options_.partitions));
    for (;;) {
      rd_kafka_resp_err_t err = rd_kafka_producev(
          rk_, RD_KAFKA_V_TOPIC(options_.topic.c_str()), RD_KAFKA_V_PARTITION(partition),
          RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
          RD_KAFKA_V_KEY(key.empty() ? nullptr : const_cast<char*>(key.data()), key.size()),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(tag)), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) throw std::runtime_error(std::string("produce: ") + rd_kafka_err2str(err));
      rd_kafka_poll(rk_, 1);
    }
    rd_kafka_poll(rk_, 0);
  }

  void poll(int timeout_ms) override { rd_kafka_poll(rk_, timeout_ms); }

  void flush() override {
    while (rd_kafka_outq_len(rk_) > 0) rd_kafka_poll(rk_, 10);
  }

 private:
  DriverOptions options_;
  rd_kafka_t* rk_ = nullptr;
};

class KafkaConsumer final : public Consumer {
 public:
  explicit KafkaConsumer(const DriverOptions& options) : options_(options) {}
  ~KafkaConsumer() override {
    if (rk_) {
      rd_kafka_queue_destroy(queue_);
      rd_kafka_consumer_close(rk_);
      rd_kafka_destroy(rk_);
    }
  }

  void start(bool from_start) override {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", options_.bootstrap);
    set(conf, "group.id", options_.group);
    set(conf, "auto.offset.reset", from_start ? "earliest" : "latest");
    set(conf, "enable.auto.commit", "true");
    set(conf, "fetch.wait.max.ms", std::to_string(options_.fetch_wait_ms));
    set(conf, "fetch.message.max.bytes", "1048576");
    set(conf, "queued.min.messages", "200000");
    char error[512];
    rk_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof error);
    if (!rk_) throw std::runtime_error(std::string("rd_kafka_new: ") + error);
    rd_kafka_poll_set_consumer(rk_);
    queue_ = rd_kafka_queue_get_consumer(rk_);
    rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, options_.topic.c_str(), RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(rk_, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (err) throw std::runtime_error(std::string("subscribe: ") + rd_kafka_err2str(err));
    messages_.resize(10000);
  }

  std::size_t poll(int timeout_ms, const RecordHandler& handler) override {
    // rd_kafka_consume_batch_queue waits out its whole timeout unless the
    // batch fills up, which would add up to timeout_ms to every end-to-end
    // latency: take what is queued without waiting, and when nothing is, wait
    // for one message only (rd_kafka_consume_queue returns when it arrives).
    ssize_t n = rd_kafka_consume_batch_queue(queue_, 0, messages_.data(), messages_.size());
    if (n == 0) {
      if (rd_kafka_message_t* first = rd_kafka_consume_queue(queue_, timeout_ms)) {
        messages_[0] = first;
        n = 1 + std::max<ssize_t>(0, rd_kafka_consume_batch_queue(queue_, 0, messages_.data() + 1, messages_.size() - 1));
      }
    }
    std::size_t delivered = 0;
    for (ssize_t i = 0; i < n; ++i) {
      rd_kafka_message_t* message = messages_[static_cast<std::size_t>(i)];
      if (!message->err) {
        handler(std::string_view(static_cast<const char*>(message->payload), message->len));
        ++delivered;
      } else if (message->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        last_error_ = rd_kafka_message_errstr(message);
      }
      rd_kafka_message_destroy(message);
    }
    return delivered;
  }

  bool ready() override {
    rd_kafka_topic_partition_list_t* assignment = nullptr;
    if (rd_kafka_assignment(rk_, &assignment)) return false;
    const bool assigned = assignment->cnt > 0;
    rd_kafka_topic_partition_list_destroy(assignment);
    return assigned;
  }

 private:
  DriverOptions options_;
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_queue_t* queue_ = nullptr;
  std::vector<rd_kafka_message_t*> messages_;
  std::string last_error_;
};

}  // namespace

std::unique_ptr<Producer> make_kafka_producer(const DriverOptions& options) {
  return std::make_unique<KafkaProducer>(options);
}
std::unique_ptr<Consumer> make_kafka_consumer(const DriverOptions& options) {
  return std::make_unique<KafkaConsumer>(options);
}

}  // namespace runnel::bench
