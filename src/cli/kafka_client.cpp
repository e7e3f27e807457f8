#include "cli/kafka_client.h"

#include <algorithm>
#include <cstdio>

#include "cli/exit_codes.h"

namespace runnel::cli {

std::string seconds_text(int ms) {
  char buf[32];
  if (ms % 1000 == 0) {
    std::snprintf(buf, sizeof buf, "%ds", ms / 1000);
  } else {
    std::snprintf(buf, sizeof buf, "%.1fs", ms / 1000.0);
  }
  return buf;
}

namespace {

void set_property(rd_kafka_conf_t* conf, const std::string& key, const std::string& value, bool from_user) {
  char errstr[512];
  if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    if (from_user) usage_error("invalid -X " + key + "=" + value + ": " + errstr);
    fail("cannot set client property " + key + "=" + value + ": " + errstr);
  }
}

bool is_connectivity_error(rd_kafka_resp_err_t err) {
  return err == RD_KAFKA_RESP_ERR__TIMED_OUT || err == RD_KAFKA_RESP_ERR__TRANSPORT ||
         err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN || err == RD_KAFKA_RESP_ERR__RESOLVE ||
         err == RD_KAFKA_RESP_ERR__MSG_TIMED_OUT;
}

// librdkafka reasons look like "host:port/bootstrap: Connect to ipv4#127.0.0.1:1
// failed: Connection refused (after 0ms in state CONNECT)": keep the part a
// person needs.
std::string shorten_reason(std::string reason) {
  if (const auto pos = reason.find(" (after "); pos != std::string::npos) reason.erase(pos);
  if (const auto pos = reason.find("failed: "); pos != std::string::npos) return reason.substr(pos + 8);
  if (const auto pos = reason.find("/bootstrap: "); pos != std::string::npos) return reason.substr(pos + 12);
  return reason;
}

}  // namespace

std::string error_text(rd_kafka_resp_err_t err) {
  std::string text = rd_kafka_err2str(err);
  if (text.rfind("Broker: ", 0) == 0) text.erase(0, 8);
  const char* name = rd_kafka_err2name(err);
  // Internal librdkafka errors start with '_' and their names add nothing.
  if (name != nullptr && name[0] != '_') text += std::string(" (") + name + ")";
  return text;
}

std::string error_text(rd_kafka_resp_err_t err, const char* detail) {
  std::string text = detail != nullptr ? detail : "";
  while (!text.empty() && (text.back() == '.' || text.back() == ' ')) text.pop_back();
  if (text.empty() || text == rd_kafka_err2str(err)) return error_text(err);
  const char* name = rd_kafka_err2name(err);
  if (name != nullptr && name[0] != '_') text += std::string(" (") + name + ")";
  return text;
}

KafkaClient::KafkaClient(const ClientOptions& options, rd_kafka_type_t type,
                         const std::vector<std::pair<std::string, std::string>>& extra,
                         const std::function<void(rd_kafka_conf_t*)>& configure)
    : brokers_(options.brokers), timeout_ms_(options.timeout_ms()), verbose_(options.verbose) {
  if (brokers_.empty()) usage_error("--brokers must not be empty");
  // Parse user properties first: nothing to clean up if one is malformed.
  std::vector<std::pair<std::string, std::string>> user_properties;
  for (const auto& property : options.properties) user_properties.push_back(split_assignment(property, "-X property"));
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  set_property(conf, "bootstrap.servers", brokers_, false);
  set_property(conf, "client.id", "runnel-cli", false);
  // Fail fast on dead brokers: bounded connection setup, no retry storm.
  set_property(conf, "socket.connection.setup.timeout.ms", std::to_string(std::max(timeout_ms_, 1000)), false);
  set_property(conf, "api.version.request.timeout.ms", std::to_string(std::min(std::max(timeout_ms_, 1000), 10000)),
               false);
  set_property(conf, "log.connection.close", "false", false);
  for (const auto& [key, value] : extra) set_property(conf, key, value, false);
  for (const auto& [key, value] : user_properties) set_property(conf, key, value, true);
  rd_kafka_conf_set_opaque(conf, this);
  rd_kafka_conf_set_log_cb(conf, &KafkaClient::log_cb);
  rd_kafka_conf_set_error_cb(conf, &KafkaClient::error_cb);
  if (configure) configure(conf);

  char errstr[512];
  rk_ = rd_kafka_new(type, conf, errstr, sizeof errstr);  // takes ownership of conf on success
  if (rk_ == nullptr) {
    rd_kafka_conf_destroy(conf);
    usage_error(std::string("cannot create Kafka client: ") + errstr);
  }
}

KafkaClient::~KafkaClient() {
  if (rk_ != nullptr) {
    rd_kafka_destroy_flags(rk_, no_consumer_close_ ? RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE : 0);
  }
}

void KafkaClient::log_cb(const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
  // librdkafka logs go to stderr only with --verbose; otherwise the one-line
  // error from the command is all the user sees.
  const auto* self = static_cast<const KafkaClient*>(rd_kafka_opaque(rk));
  if (self != nullptr && self->verbose_) std::fprintf(stderr, "rdkafka %d %s: %s\n", level, fac, buf);
}

void KafkaClient::error_cb(rd_kafka_t* /*rk*/, int err, const char* reason, void* opaque) {
  auto* self = static_cast<KafkaClient*>(opaque);
  if (self == nullptr) return;
  if (self->verbose_) std::fprintf(stderr, "rdkafka error: %s\n", reason);
  // "1/1 brokers are down" says less than the transport error before it.
  if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
    self->all_brokers_down_ = true;
    return;
  }
  std::lock_guard lock(self->mu_);
  self->last_error_ = reason;
}

std::string KafkaClient::last_error() const {
  std::lock_guard lock(mu_);
  return last_error_;
}

void KafkaClient::throw_unreachable(rd_kafka_resp_err_t err) {
  no_consumer_close_ = true;
  // Error events wait on the main queue until polled: serve them so the
  // message can name the real cause (refused, unresolvable, ...).
  rd_kafka_poll(rk_, 0);
  const std::string reason = last_error();
  std::string message = "cannot reach broker at " + brokers_ + " within " + seconds_text(timeout_ms_);
  message += ": " + (reason.empty() ? error_text(err) : shorten_reason(reason));
  throw CliError(kExitUnreachable, message);
}

MetadataPtr KafkaClient::metadata() {
  const rd_kafka_metadata_t* md = nullptr;
  const rd_kafka_resp_err_t err = rd_kafka_metadata(rk_, 1, nullptr, &md, timeout_ms_);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (is_connectivity_error(err)) throw_unreachable(err);
    fail("metadata request failed: " + error_text(err));
  }
  return MetadataPtr(md);
}

Watermarks KafkaClient::watermarks(const std::string& topic, int partition) {
  Watermarks w;
  const auto err = rd_kafka_query_watermark_offsets(rk_, topic.c_str(), partition, &w.low, &w.high, timeout_ms_);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    fail("cannot read offsets of " + topic + "/" + std::to_string(partition) + ": " + error_text(err));
  }
  return w;
}

AdminOptionsPtr KafkaClient::admin_options(rd_kafka_admin_op_t api, bool validate_only) {
  AdminOptionsPtr options(rd_kafka_AdminOptions_new(rk_, api));
  char errstr[256];
  rd_kafka_AdminOptions_set_request_timeout(options.get(), timeout_ms_, errstr, sizeof errstr);
  if (api == RD_KAFKA_ADMIN_OP_CREATETOPICS || api == RD_KAFKA_ADMIN_OP_DELETETOPICS ||
      api == RD_KAFKA_ADMIN_OP_CREATEPARTITIONS) {
    // Wait (bounded) until the change has propagated, so a following
    // command sees it.
    rd_kafka_AdminOptions_set_operation_timeout(options.get(), timeout_ms_, errstr, sizeof errstr);
  }
  if (validate_only &&
      rd_kafka_AdminOptions_set_validate_only(options.get(), 1, errstr, sizeof errstr) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    fail(std::string("--dry-run is not possible here: ") + errstr);
  }
  return options;
}

EventPtr KafkaClient::wait_admin_result(rd_kafka_queue_t* queue, const std::string& api) {
  // librdkafka enforces the request timeout itself; the margin only guards
  // against a result that never arrives.
  EventPtr event(rd_kafka_queue_poll(queue, timeout_ms_ + 5000));
  if (!event) fail(api + " timed out after " + seconds_text(timeout_ms_));
  const rd_kafka_resp_err_t err = rd_kafka_event_error(event.get());
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return event;
  const std::string detail = error_text(err, rd_kafka_event_error_string(event.get()));
  if (err == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE) fail("the broker does not support " + api + ": " + detail);
  if (err == RD_KAFKA_RESP_ERR__TIMED_OUT) fail(api + " timed out after " + seconds_text(timeout_ms_) + ": " + detail);
  fail(api + " failed: " + detail);
}

const rd_kafka_metadata_topic_t* find_topic(const rd_kafka_metadata_t& md, const std::string& name) {
  for (int i = 0; i < md.topic_cnt; ++i) {
    if (name == md.topics[i].topic) return &md.topics[i];
  }
  return nullptr;
}

const rd_kafka_metadata_topic_t& require_topic(const rd_kafka_metadata_t& md, const std::string& name) {
  const auto* topic = find_topic(md, name);
  if (topic == nullptr || topic->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) fail("unknown topic '" + name + "'");
  if (topic->err != RD_KAFKA_RESP_ERR_NO_ERROR) fail("topic '" + name + "': " + error_text(topic->err));
  return *topic;
}

}  // namespace runnel::cli
