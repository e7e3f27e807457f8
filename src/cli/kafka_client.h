// RAII wrappers around librdkafka handles, events and admin requests, with
// errors mapped to CliError so every command reports failures the same way.
#pragma once

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "cli/common_options.h"

namespace runnel::cli {

struct EventDeleter {
  void operator()(rd_kafka_event_t* e) const { rd_kafka_event_destroy(e); }
};
struct QueueDeleter {
  void operator()(rd_kafka_queue_t* q) const { rd_kafka_queue_destroy(q); }
};
struct AdminOptionsDeleter {
  void operator()(rd_kafka_AdminOptions_t* o) const { rd_kafka_AdminOptions_destroy(o); }
};
struct MetadataDeleter {
  void operator()(const rd_kafka_metadata_t* m) const { rd_kafka_metadata_destroy(m); }
};
struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const { rd_kafka_topic_partition_list_destroy(l); }
};
struct HeadersDeleter {
  void operator()(rd_kafka_headers_t* h) const { rd_kafka_headers_destroy(h); }
};
using EventPtr = std::unique_ptr<rd_kafka_event_t, EventDeleter>;
using QueuePtr = std::unique_ptr<rd_kafka_queue_t, QueueDeleter>;
using AdminOptionsPtr = std::unique_ptr<rd_kafka_AdminOptions_t, AdminOptionsDeleter>;
using MetadataPtr = std::unique_ptr<const rd_kafka_metadata_t, MetadataDeleter>;
using PartitionListPtr = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;
using HeadersPtr = std::unique_ptr<rd_kafka_headers_t, HeadersDeleter>;

// "Unknown topic or partition (UNKNOWN_TOPIC_OR_PART)": readable text plus
// the Kafka error name people search for.
std::string error_text(rd_kafka_resp_err_t err);
// The broker's own message when it sent one ("Topic 'x' already exists"),
// else librdkafka's text; plus the Kafka error name either way.
std::string error_text(rd_kafka_resp_err_t err, const char* detail);

// "5s", "1.5s": a --timeout in milliseconds as the error messages show it.
std::string seconds_text(int ms);

// Low/high watermarks of one partition.
struct Watermarks {
  std::int64_t low = -1;
  std::int64_t high = -1;
};

class KafkaClient {
 public:
  // Extra librdkafka properties are applied after the defaults and before the
  // user's -X properties; `configure` may install callbacks on the conf.
  KafkaClient(const ClientOptions& options, rd_kafka_type_t type,
              const std::vector<std::pair<std::string, std::string>>& extra = {},
              const std::function<void(rd_kafka_conf_t*)>& configure = {});
  ~KafkaClient();
  KafkaClient(const KafkaClient&) = delete;
  KafkaClient& operator=(const KafkaClient&) = delete;

  rd_kafka_t* get() const { return rk_; }
  int timeout_ms() const { return timeout_ms_; }
  const std::string& brokers() const { return brokers_; }

  // Metadata for all topics (never auto-creates a topic, unlike a request for
  // one named topic). Throws CliError(kExitUnreachable) when no broker answers
  // within --timeout: this doubles as the reachability check of every command.
  MetadataPtr metadata();

  // Queries the partition leader; throws CliError on failure.
  Watermarks watermarks(const std::string& topic, int partition);

  // Admin options for `api` with request/operation timeouts from --timeout.
  AdminOptionsPtr admin_options(rd_kafka_admin_op_t api, bool validate_only = false);
  // Waits (bounded) for the result of an admin request posted to `queue` and
  // throws CliError if the whole request failed; `api` names it in errors.
  EventPtr wait_admin_result(rd_kafka_queue_t* queue, const std::string& api);

  // Ask librdkafka to skip the consumer close on destruction (used when the
  // broker is unreachable, where a close would wait for the coordinator).
  void skip_consumer_close() { no_consumer_close_ = true; }

  // The last connection-level error librdkafka reported (for messages).
  std::string last_error() const;
  // True once librdkafka reported that every broker connection is down.
  bool all_brokers_down() const { return all_brokers_down_.load(); }
  // Throws CliError(kExitUnreachable) naming the brokers and the last error.
  [[noreturn]] void throw_unreachable(rd_kafka_resp_err_t err);

 private:
  static void log_cb(const rd_kafka_t* rk, int level, const char* fac, const char* buf);
  static void error_cb(rd_kafka_t* rk, int err, const char* reason, void* opaque);

  rd_kafka_t* rk_ = nullptr;
  std::string brokers_;
  int timeout_ms_ = 5000;
  bool verbose_ = false;
  bool no_consumer_close_ = false;
  mutable std::mutex mu_;
  std::string last_error_;
  std::atomic<bool> all_brokers_down_{false};
};

// Topic lookup in a metadata snapshot; nullptr if absent.
const rd_kafka_metadata_topic_t* find_topic(const rd_kafka_metadata_t& md, const std::string& name);
// Throws CliError(kExitFailed, "unknown topic 'x'") if absent or in error.
const rd_kafka_metadata_topic_t& require_topic(const rd_kafka_metadata_t& md, const std::string& name);

}  // namespace runnel::cli
