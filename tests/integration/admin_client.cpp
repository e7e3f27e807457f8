#include "admin_client.h"

#include <gtest/gtest.h>

namespace runnel::it {
namespace {
constexpr int kTimeoutMs = 15000;
}

AdminClient::AdminClient(const std::string& bootstrap) {
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), errstr, sizeof errstr);
  rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  EXPECT_NE(rk_, nullptr) << errstr;
  queue_ = rd_kafka_queue_new(rk_);
}

AdminClient::~AdminClient() {
  if (queue_) rd_kafka_queue_destroy(queue_);
  if (rk_) rd_kafka_destroy(rk_);
}

rd_kafka_event_t* AdminClient::wait_result(rd_kafka_event_type_t type) {
  rd_kafka_event_t* event = rd_kafka_queue_poll(queue_, kTimeoutMs + 5000);
  EXPECT_NE(event, nullptr) << "no admin result";
  if (event) {
    EXPECT_EQ(rd_kafka_event_type(event), type);
  }
  return event;
}

static rd_kafka_AdminOptions_t* options(rd_kafka_t* rk, rd_kafka_admin_op_t op, bool validate_only) {
  char errstr[256];
  auto* opts = rd_kafka_AdminOptions_new(rk, op);
  rd_kafka_AdminOptions_set_request_timeout(opts, kTimeoutMs, errstr, sizeof errstr);
  if (validate_only) rd_kafka_AdminOptions_set_validate_only(opts, 1, errstr, sizeof errstr);
  return opts;
}

static AdminOutcome topic_outcome(const rd_kafka_topic_result_t* const* results, size_t count) {
  AdminOutcome outcome;
  if (count != 1) {
    outcome.err = RD_KAFKA_RESP_ERR__FAIL;
    outcome.message = "expected one topic result";
    return outcome;
  }
  outcome.err = rd_kafka_topic_result_error(results[0]);
  if (const char* msg = rd_kafka_topic_result_error_string(results[0])) outcome.message = msg;
  return outcome;
}

AdminOutcome AdminClient::create_topic(const std::string& name, int partitions, int replication_factor,
                                       const std::map<std::string, std::string>& configs, bool validate_only) {
  char errstr[256];
  auto* topic = rd_kafka_NewTopic_new(name.c_str(), partitions, replication_factor, errstr, sizeof errstr);
  if (topic == nullptr) return {RD_KAFKA_RESP_ERR__INVALID_ARG, errstr};  // refused client-side
  for (const auto& [k, v] : configs) rd_kafka_NewTopic_set_config(topic, k.c_str(), v.c_str());
  auto* opts = options(rk_, RD_KAFKA_ADMIN_OP_CREATETOPICS, validate_only);
  rd_kafka_CreateTopics(rk_, &topic, 1, opts, queue_);
  rd_kafka_event_t* event = wait_result(RD_KAFKA_EVENT_CREATETOPICS_RESULT);
  AdminOutcome outcome;
  if (event) {
    if (rd_kafka_event_error(event)) {
      outcome = {rd_kafka_event_error(event), rd_kafka_event_error_string(event)};
    } else {
      size_t count = 0;
      auto* results = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &count);
      outcome = topic_outcome(results, count);
    }
    rd_kafka_event_destroy(event);
  }
  rd_kafka_AdminOptions_destroy(opts);
  rd_kafka_NewTopic_destroy(topic);
  return outcome;
}

AdminOutcome AdminClient::delete_topic(const std::string& name) {
  auto* topic = rd_kafka_DeleteTopic_new(name.c_str());
  auto* opts = options(rk_, RD_KAFKA_ADMIN_OP_DELETETOPICS, false);
  rd_kafka_DeleteTopics(rk_, &topic, 1, opts, queue_);
  rd_kafka_event_t* event = wait_result(RD_KAFKA_EVENT_DELETETOPICS_RESULT);
  AdminOutcome outcome;
  if (event) {
    size_t count = 0;
    auto* results = rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(event), &count);
    outcome = rd_kafka_event_error(event) ? AdminOutcome{rd_kafka_event_error(event), ""} : topic_outcome(results, count);
    rd_kafka_event_destroy(event);
  }
  rd_kafka_AdminOptions_destroy(opts);
  rd_kafka_DeleteTopic_destroy(topic);
  return outcome;
}

AdminOutcome AdminClient::create_partitions(const std::string& name, int total, bool validate_only) {
  char errstr[256];
  auto* parts = rd_kafka_NewPartitions_new(name.c_str(), static_cast<size_t>(total), errstr, sizeof errstr);
  auto* opts = options(rk_, RD_KAFKA_ADMIN_OP_CREATEPARTITIONS, validate_only);
  rd_kafka_CreatePartitions(rk_, &parts, 1, opts, queue_);
  rd_kafka_event_t* event = wait_result(RD_KAFKA_EVENT_CREATEPARTITIONS_RESULT);
  AdminOutcome outcome;
  if (event) {
    size_t count = 0;
    auto* results = rd_kafka_CreatePartitions_result_topics(rd_kafka_event_CreatePartitions_result(event), &count);
    outcome = rd_kafka_event_error(event) ? AdminOutcome{rd_kafka_event_error(event), ""} : topic_outcome(results, count);
    rd_kafka_event_destroy(event);
  }
  rd_kafka_AdminOptions_destroy(opts);
  rd_kafka_NewPartitions_destroy(parts);
  return outcome;
}

AdminOutcome AdminClient::alter_topic_configs(const std::string& name, const std::map<std::string, std::string>& configs) {
  auto* resource = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, name.c_str());
  for (const auto& [k, v] : configs) rd_kafka_ConfigResource_set_config(resource, k.c_str(), v.c_str());
  auto* opts = options(rk_, RD_KAFKA_ADMIN_OP_ALTERCONFIGS, false);
  rd_kafka_AlterConfigs(rk_, &resource, 1, opts, queue_);
  rd_kafka_event_t* event = wait_result(RD_KAFKA_EVENT_ALTERCONFIGS_RESULT);
  AdminOutcome outcome;
  if (event) {
    size_t count = 0;
    auto* results = rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(event), &count);
    if (rd_kafka_event_error(event)) {
      outcome = {rd_kafka_event_error(event), rd_kafka_event_error_string(event)};
    } else if (count == 1) {
      outcome.err = rd_kafka_ConfigResource_error(results[0]);
      if (auto* msg = rd_kafka_ConfigResource_error_string(results[0])) outcome.message = msg;
    }
    rd_kafka_event_destroy(event);
  }
  rd_kafka_AdminOptions_destroy(opts);
  rd_kafka_ConfigResource_destroy(resource);
  return outcome;
}

std::map<std::string, AdminClient::ConfigValue> AdminClient::describe_configs(rd_kafka_ResourceType_t type,
                                                                              const std::string& name,
                                                                              AdminOutcome* outcome) {
  std::map<std::string, ConfigValue> values;
  auto* resource = rd_kafka_ConfigResource_new(type, name.c_str());
  auto* opts = options(rk_, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, false);
  rd_kafka_DescribeConfigs(rk_, &resource, 1, opts, queue_);
  rd_kafka_event_t* event = wait_result(RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT);
  if (event) {
    size_t count = 0;
    auto* results = rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(event), &count);
    AdminOutcome result;
    if (rd_kafka_event_error(event)) {
      result = {rd_kafka_event_error(event), rd_kafka_event_error_string(event)};
    } else if (count == 1) {
      result.err = rd_kafka_ConfigResource_error(results[0]);
      if (auto* msg = rd_kafka_ConfigResource_error_string(results[0])) result.message = msg;
      size_t config_count = 0;
      auto* entries = rd_kafka_ConfigResource_configs(results[0], &config_count);
      for (size_t i = 0; i < config_count; ++i) {
        size_t synonym_count = 0;
        rd_kafka_ConfigEntry_synonyms(entries[i], &synonym_count);
        const char* value = rd_kafka_ConfigEntry_value(entries[i]);
        values[rd_kafka_ConfigEntry_name(entries[i])] = {value ? value : "", rd_kafka_ConfigEntry_source(entries[i]),
                                                         rd_kafka_ConfigEntry_is_read_only(entries[i]) != 0,
                                                         static_cast<int>(synonym_count)};
      }
    }
    if (outcome) *outcome = result;
    rd_kafka_event_destroy(event);
  }
  rd_kafka_AdminOptions_destroy(opts);
  rd_kafka_ConfigResource_destroy(resource);
  return values;
}

int64_t AdminClient::delete_records(const std::string& topic, int partition, int64_t before_offset,
                                    AdminOutcome* outcome) {
  auto* offsets = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(offsets, topic.c_str(), partition)->offset = before_offset;
  auto* request = rd_kafka_DeleteRecords_new(offsets);
  auto* opts = options(rk_, RD_KAFKA_ADMIN_OP_DELETERECORDS, false);
  rd_kafka_DeleteRecords(rk_, &request, 1, opts, queue_);
  rd_kafka_event_t* event = wait_result(RD_KAFKA_EVENT_DELETERECORDS_RESULT);
  int64_t low = -1;
  AdminOutcome result;
  if (event) {
    if (rd_kafka_event_error(event)) {
      result = {rd_kafka_event_error(event), rd_kafka_event_error_string(event)};
    } else {
      const auto* list = rd_kafka_DeleteRecords_result_offsets(rd_kafka_event_DeleteRecords_result(event));
      if (list && list->cnt == 1) {
        result.err = list->elems[0].err;
        low = list->elems[0].offset;
      }
    }
    rd_kafka_event_destroy(event);
  }
  if (outcome) *outcome = result;
  rd_kafka_AdminOptions_destroy(opts);
  rd_kafka_DeleteRecords_destroy(request);
  rd_kafka_topic_partition_list_destroy(offsets);
  return low;
}

int AdminClient::partition_count(const std::string& topic) {
  const rd_kafka_metadata_t* metadata = nullptr;
  rd_kafka_topic_t* handle = rd_kafka_topic_new(rk_, topic.c_str(), nullptr);
  int count = -1;
  if (rd_kafka_metadata(rk_, 0, handle, &metadata, kTimeoutMs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (metadata->topic_cnt == 1 && metadata->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      count = metadata->topics[0].partition_cnt;
    }
    rd_kafka_metadata_destroy(metadata);
  }
  rd_kafka_topic_destroy(handle);
  return count;
}

std::pair<int64_t, int64_t> AdminClient::watermarks(const std::string& topic, int partition) {
  int64_t low = -1, high = -1;
  rd_kafka_query_watermark_offsets(rk_, topic.c_str(), partition, &low, &high, kTimeoutMs);
  return {low, high};
}

}  // namespace runnel::it
