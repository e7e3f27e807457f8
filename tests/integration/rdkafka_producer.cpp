#include "rdkafka_producer.h"

#include <thread>

namespace runnel::it {

rd_kafka_conf_t* MakeConf(const ClientConfig& config, std::string* error) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char errstr[512];
  for (const auto& [k, v] : config) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
      *error = k + "=" + v + ": " + errstr;
      rd_kafka_conf_destroy(conf);
      return nullptr;
    }
  }
  return conf;
}

std::string RdkafkaBuiltinFeatures() {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char buf[512];
  size_t size = sizeof buf;
  std::string features;
  if (rd_kafka_conf_get(conf, "builtin.features", buf, &size) == RD_KAFKA_CONF_OK) features = buf;
  rd_kafka_conf_destroy(conf);
  return features;
}

Producer::Producer(const std::string& bootstrap, const ClientConfig& overrides) {
  ClientConfig config = {
      {"bootstrap.servers", bootstrap},
      {"acks", "all"},
      {"linger.ms", "5"},
      {"enable.idempotence", "false"},
      {"message.timeout.ms", "60000"},
      {"log_level", "4"},
  };
  for (const auto& [k, v] : overrides) config[k] = v;
  rd_kafka_conf_t* conf = MakeConf(config, &error_);
  if (conf == nullptr) return;
  rd_kafka_conf_set_dr_msg_cb(conf, &Producer::OnDelivery);
  rd_kafka_conf_set_opaque(conf, this);
  char errstr[512];
  rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (rk_ == nullptr) {
    error_ = errstr;
    rd_kafka_conf_destroy(conf);
  }
}

Producer::~Producer() {
  if (rk_ == nullptr) return;
  // Bounded: whatever is still undelivered after this is purged.
  rd_kafka_flush(rk_, 5000);
  rd_kafka_purge(rk_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  rd_kafka_poll(rk_, 0);
  rd_kafka_destroy(rk_);
}

void Producer::OnDelivery(rd_kafka_t*, const rd_kafka_message_t* msg, void* opaque) {
  auto* self = static_cast<Producer*>(opaque);
  Delivery d;
  d.id = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(msg->_private));
  d.partition = msg->partition;
  d.offset = msg->offset;
  d.err = msg->err;
  std::lock_guard lock(self->mu_);
  self->deliveries_.push_back(d);
}

rd_kafka_resp_err_t Producer::produce(const std::string& topic, std::int32_t partition, const TestRecord& record,
                                      std::uint64_t id, std::chrono::milliseconds enqueue_timeout) {
  const auto deadline = std::chrono::steady_clock::now() + enqueue_timeout;
  while (true) {
    rd_kafka_headers_t* headers = rd_kafka_headers_new(record.headers.size());
    for (const auto& [name, value] : record.headers) {
      rd_kafka_header_add(headers, name.data(), static_cast<ssize_t>(name.size()), value.data(),
                          static_cast<ssize_t>(value.size()));
    }
    const void* key = record.key ? record.key->data() : nullptr;
    const size_t key_len = record.key ? record.key->size() : 0;
    rd_kafka_resp_err_t err = rd_kafka_producev(
        rk_, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(const_cast<void*>(key), key_len),
        RD_KAFKA_V_VALUE(const_cast<char*>(record.value.data()), record.value.size()),
        RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<std::uintptr_t>(id))),
        RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return err;
    rd_kafka_headers_destroy(headers);  // not taken over on failure
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || std::chrono::steady_clock::now() >= deadline) return err;
    rd_kafka_poll(rk_, 10);
  }
}

rd_kafka_resp_err_t Producer::flush(std::chrono::milliseconds timeout) {
  return rd_kafka_flush(rk_, static_cast<int>(timeout.count()));
}

std::vector<Delivery> Producer::deliveries() const {
  std::lock_guard lock(mu_);
  return deliveries_;
}

std::size_t Producer::delivery_count() const {
  std::lock_guard lock(mu_);
  return deliveries_.size();
}

int Producer::wait_for_topic(const std::string& topic, std::chrono::milliseconds timeout, std::string* why) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk_, topic.c_str(), nullptr);
  std::string last = "no attempt";
  int result = -1;
  while (std::chrono::steady_clock::now() < deadline) {
    const rd_kafka_metadata_t* md = nullptr;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk_, 0, rkt, &md, 5000);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      last = std::string("metadata request: ") + rd_kafka_err2str(err);
    } else {
      bool done = false;
      for (int i = 0; i < md->topic_cnt; ++i) {
        const auto& t = md->topics[i];
        if (topic != t.topic) continue;
        if (t.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
          last = std::string("topic error: ") + rd_kafka_err2str(t.err);
        } else if (t.partition_cnt <= 0) {
          last = "no partitions";
        } else {
          bool leaders = true;
          for (int p = 0; p < t.partition_cnt; ++p) leaders = leaders && t.partitions[p].leader >= 0;
          if (leaders) {
            result = t.partition_cnt;
            done = true;
          } else {
            last = "partition without leader";
          }
        }
      }
      rd_kafka_metadata_destroy(md);
      if (done) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  rd_kafka_topic_destroy(rkt);
  if (result < 0 && why != nullptr) *why = last;
  return result;
}

}  // namespace runnel::it
