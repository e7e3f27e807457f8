// A thin RAII wrapper over a librdkafka producer that records every delivery
// report (id -> partition, offset, error).
#pragma once

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "test_record.h"

namespace runnel::it {

struct Delivery {
  std::uint64_t id = 0;
  std::int32_t partition = -1;
  std::int64_t offset = -1;
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
};

using ClientConfig = std::map<std::string, std::string>;

class Producer {
 public:
  // Defaults: acks=all, linger.ms=5, no idempotence (the broker has no
  // InitProducerId yet); `overrides` win.
  Producer(const std::string& bootstrap, const ClientConfig& overrides = {});
  ~Producer();
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  bool ok() const { return rk_ != nullptr; }
  const std::string& error() const { return error_; }
  rd_kafka_t* handle() const { return rk_; }

  // Enqueues one record (partition -1 = partitioner). Retries on a full local
  // queue for at most `enqueue_timeout`. Returns the enqueue error, if any.
  rd_kafka_resp_err_t produce(const std::string& topic, std::int32_t partition, const TestRecord& record,
                              std::uint64_t id,
                              std::chrono::milliseconds enqueue_timeout = std::chrono::seconds(30));
  int poll(int timeout_ms) { return rd_kafka_poll(rk_, timeout_ms); }
  rd_kafka_resp_err_t flush(std::chrono::milliseconds timeout);
  // Messages not yet delivered or failed.
  int outstanding() const { return rd_kafka_outq_len(rk_); }

  std::vector<Delivery> deliveries() const;
  std::size_t delivery_count() const;

  // Requests metadata for `topic` until it reports >= 1 partition with no
  // error (auto-creating it), bounded by `timeout`. Returns the partition
  // count, or -1 (with *why filled) on failure.
  int wait_for_topic(const std::string& topic, std::chrono::milliseconds timeout, std::string* why = nullptr);

 private:
  static void OnDelivery(rd_kafka_t* rk, const rd_kafka_message_t* msg, void* opaque);

  rd_kafka_t* rk_ = nullptr;
  std::string error_;
  mutable std::mutex mu_;
  std::vector<Delivery> deliveries_;
};

// Builds a librdkafka conf from key/values; returns nullptr (with *error) on a
// bad property.
rd_kafka_conf_t* MakeConf(const ClientConfig& config, std::string* error);

// librdkafka's builtin.features string (e.g. "gzip,snappy,...,zstd").
std::string RdkafkaBuiltinFeatures();

}  // namespace runnel::it
