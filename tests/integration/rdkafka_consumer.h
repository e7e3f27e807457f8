// librdkafka consumption without a consumer group (the broker has no group
// coordinator yet): the legacy simple consumer API (rd_kafka_consume_start /
// rd_kafka_consume), one partition at a time.
#pragma once

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rdkafka_producer.h"
#include "test_record.h"

namespace runnel::it {

// Result of one poll of a PartitionConsumer.
struct ConsumeEvent {
  enum class Kind { kNothing, kRecord, kEndOfPartition, kError } kind = Kind::kNothing;
  ConsumedRecord record;  // kRecord
  std::string error;      // kError
};

class PartitionConsumer {
 public:
  // Defaults: enable.partition.eof=true, enable.auto.commit=false, no group.id.
  PartitionConsumer(const std::string& bootstrap, const std::string& topic, std::int32_t partition,
                    const ClientConfig& overrides = {});
  ~PartitionConsumer();
  PartitionConsumer(const PartitionConsumer&) = delete;
  PartitionConsumer& operator=(const PartitionConsumer&) = delete;

  bool ok() const { return rk_ != nullptr && rkt_ != nullptr; }
  const std::string& error() const { return error_; }

  // offset: absolute, or RD_KAFKA_OFFSET_BEGINNING / RD_KAFKA_OFFSET_END.
  bool start(std::int64_t offset);
  ConsumeEvent poll(int timeout_ms);

 private:
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_topic_t* rkt_ = nullptr;
  std::string topic_;
  std::int32_t partition_;
  bool started_ = false;
  std::string error_;
};

struct Watermarks {
  std::int64_t low = -1;
  std::int64_t high = -1;
  std::string error;  // empty on success
};

// ListOffsets for earliest/latest of one partition (bounded by timeout).
Watermarks QueryWatermarks(const std::string& bootstrap, const std::string& topic, std::int32_t partition,
                           std::chrono::milliseconds timeout = std::chrono::seconds(15));

struct PartitionContents {
  std::vector<ConsumedRecord> records;
  std::vector<std::string> errors;  // consumer errors (a decode error shows up here)
  bool complete = false;            // reached end_offset before the deadline
};

// Reads [start, end_offset) of one partition. Stops at end_offset, at the
// deadline, or after too many errors.
PartitionContents ReadPartition(const std::string& bootstrap, const std::string& topic, std::int32_t partition,
                                std::int64_t end_offset,
                                std::chrono::milliseconds timeout = std::chrono::seconds(120),
                                std::int64_t start = RD_KAFKA_OFFSET_BEGINNING, const ClientConfig& overrides = {});

// Reads a partition from the beginning up to its current high watermark.
PartitionContents ReadWholePartition(const std::string& bootstrap, const std::string& topic, std::int32_t partition,
                                     std::chrono::milliseconds timeout = std::chrono::seconds(120));

// A metadata request over a fresh librdkafka client; returns "" on success or
// a description of the failure.
std::string CheckMetadataWithFreshClient(const std::string& bootstrap,
                                         std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace runnel::it
