// Small synchronous wrappers over librdkafka's admin API (2.0.2), for tests.
#pragma once

#include <librdkafka/rdkafka.h>

#include <map>
#include <string>
#include <vector>

namespace runnel::it {

struct AdminOutcome {
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;  // per-resource error (or request error)
  std::string message;
};

class AdminClient {
 public:
  explicit AdminClient(const std::string& bootstrap);
  ~AdminClient();
  AdminClient(const AdminClient&) = delete;
  AdminClient& operator=(const AdminClient&) = delete;

  AdminOutcome create_topic(const std::string& name, int partitions, int replication_factor = 1,
                            const std::map<std::string, std::string>& configs = {}, bool validate_only = false);
  AdminOutcome delete_topic(const std::string& name);
  AdminOutcome create_partitions(const std::string& name, int total, bool validate_only = false);
  // Replaces a topic's overrides (AlterConfigs).
  AdminOutcome alter_topic_configs(const std::string& name, const std::map<std::string, std::string>& configs);
  // name -> (value, source) of a topic's or broker's configs.
  struct ConfigValue {
    std::string value;
    rd_kafka_ConfigSource_t source;
    bool read_only;
    int synonyms;
  };
  std::map<std::string, ConfigValue> describe_configs(rd_kafka_ResourceType_t type, const std::string& name,
                                                      AdminOutcome* outcome = nullptr);
  // Returns the new low watermark, or -1 (outcome has the error).
  int64_t delete_records(const std::string& topic, int partition, int64_t before_offset, AdminOutcome* outcome);
  // Partition count from metadata, -1 if the topic is unknown.
  int partition_count(const std::string& topic);
  // ListOffsets through rd_kafka_query_watermark_offsets: (low, high).
  std::pair<int64_t, int64_t> watermarks(const std::string& topic, int partition);

 private:
  rd_kafka_event_t* wait_result(rd_kafka_event_type_t type);
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_queue_t* queue_ = nullptr;
};

}  // namespace runnel::it
