#include "rdkafka_consumer.h"

#include <memory>

namespace runnel::it {

namespace {

TestRecord ToTestRecord(const rd_kafka_message_t* msg) {
  TestRecord r;
  if (msg->key != nullptr) r.key = std::string(static_cast<const char*>(msg->key), msg->key_len);
  if (msg->payload != nullptr) r.value = std::string(static_cast<const char*>(msg->payload), msg->len);
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(msg, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR && headers != nullptr) {
    const char* name = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    for (size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
         ++i) {
      r.headers.emplace_back(name, value != nullptr ? std::string(static_cast<const char*>(value), size)
                                                    : std::string());
    }
  }
  return r;
}

rd_kafka_t* NewConsumerHandle(const std::string& bootstrap, const ClientConfig& overrides, std::string* error) {
  ClientConfig config = {
      {"bootstrap.servers", bootstrap},
      {"enable.partition.eof", "true"},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"check.crcs", "true"},  // a batch served with a bad CRC becomes a consumer error
      {"log_level", "4"},
  };
  for (const auto& [k, v] : overrides) config[k] = v;
  rd_kafka_conf_t* conf = MakeConf(config, error);
  if (conf == nullptr) return nullptr;
  char errstr[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
  if (rk == nullptr) {
    *error = errstr;
    rd_kafka_conf_destroy(conf);
  }
  return rk;
}

}  // namespace

PartitionConsumer::PartitionConsumer(const std::string& bootstrap, const std::string& topic, std::int32_t partition,
                                     const ClientConfig& overrides)
    : topic_(topic), partition_(partition) {
  rk_ = NewConsumerHandle(bootstrap, overrides, &error_);
  if (rk_ == nullptr) return;
  rkt_ = rd_kafka_topic_new(rk_, topic.c_str(), nullptr);
  if (rkt_ == nullptr) error_ = "rd_kafka_topic_new failed";
}

PartitionConsumer::~PartitionConsumer() {
  if (started_) rd_kafka_consume_stop(rkt_, partition_);
  if (rkt_ != nullptr) rd_kafka_topic_destroy(rkt_);
  if (rk_ != nullptr) rd_kafka_destroy(rk_);
}

bool PartitionConsumer::start(std::int64_t offset) {
  if (!ok()) return false;
  if (rd_kafka_consume_start(rkt_, partition_, offset) != 0) {
    error_ = std::string("consume_start: ") + rd_kafka_err2str(rd_kafka_last_error());
    return false;
  }
  started_ = true;
  return true;
}

ConsumeEvent PartitionConsumer::poll(int timeout_ms) {
  ConsumeEvent ev;
  rd_kafka_message_t* msg = rd_kafka_consume(rkt_, partition_, timeout_ms);
  if (msg == nullptr) return ev;
  if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
    ev.kind = ConsumeEvent::Kind::kEndOfPartition;
  } else if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    ev.kind = ConsumeEvent::Kind::kError;
    ev.error = std::string(rd_kafka_err2name(msg->err)) + " at offset " + std::to_string(msg->offset) + ": " +
               rd_kafka_message_errstr(msg);
  } else {
    ev.kind = ConsumeEvent::Kind::kRecord;
    ev.record.partition = msg->partition;
    ev.record.offset = msg->offset;
    ev.record.record = ToTestRecord(msg);
  }
  rd_kafka_message_destroy(msg);
  return ev;
}

Watermarks QueryWatermarks(const std::string& bootstrap, const std::string& topic, std::int32_t partition,
                           std::chrono::milliseconds timeout) {
  Watermarks w;
  rd_kafka_t* rk = NewConsumerHandle(bootstrap, {}, &w.error);
  if (rk == nullptr) return w;
  int64_t low = -1, high = -1;
  rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(rk, topic.c_str(), partition, &low, &high,
                                                             static_cast<int>(timeout.count()));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    w.error = std::string("query_watermark_offsets: ") + rd_kafka_err2name(err);
  } else {
    w.low = low;
    w.high = high;
  }
  rd_kafka_destroy(rk);
  return w;
}

PartitionContents ReadPartition(const std::string& bootstrap, const std::string& topic, std::int32_t partition,
                                std::int64_t end_offset, std::chrono::milliseconds timeout, std::int64_t start,
                                const ClientConfig& overrides) {
  PartitionContents out;
  if (end_offset <= 0 || (start >= 0 && start >= end_offset)) {
    out.complete = true;
    return out;
  }
  PartitionConsumer consumer(bootstrap, topic, partition, overrides);
  if (!consumer.start(start)) {
    out.errors.push_back(consumer.error());
    return out;
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline && out.errors.size() < 20) {
    ConsumeEvent ev = consumer.poll(200);
    if (ev.kind == ConsumeEvent::Kind::kError) out.errors.push_back(ev.error);
    if (ev.kind != ConsumeEvent::Kind::kRecord) continue;
    const std::int64_t offset = ev.record.offset;
    out.records.push_back(std::move(ev.record));
    if (offset >= end_offset - 1) {
      out.complete = true;
      break;
    }
  }
  return out;
}

PartitionContents ReadWholePartition(const std::string& bootstrap, const std::string& topic, std::int32_t partition,
                                     std::chrono::milliseconds timeout) {
  Watermarks w = QueryWatermarks(bootstrap, topic, partition);
  if (!w.error.empty()) {
    PartitionContents out;
    out.errors.push_back(w.error);
    return out;
  }
  return ReadPartition(bootstrap, topic, partition, w.high, timeout);
}

std::string CheckMetadataWithFreshClient(const std::string& bootstrap, std::chrono::milliseconds timeout) {
  std::string error;
  ClientConfig config = {{"bootstrap.servers", bootstrap}, {"log_level", "3"}};
  rd_kafka_conf_t* conf = MakeConf(config, &error);
  if (conf == nullptr) return error;
  char errstr[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return errstr;
  }
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, nullptr, &md, static_cast<int>(timeout.count()));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    error = std::string("metadata request failed: ") + rd_kafka_err2name(err);
  } else {
    if (md->broker_cnt != 1) error = "expected 1 broker in metadata, got " + std::to_string(md->broker_cnt);
    rd_kafka_metadata_destroy(md);
  }
  rd_kafka_destroy(rk);
  return error;
}

}  // namespace runnel::it
