#include "common/config.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <functional>
#include <set>

#include <fmt/format.h>

#include "common/topic_config.h"

namespace runnel {
namespace {

std::string trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(first, last - first + 1));
}

[[noreturn]] void invalid(const std::string& key, const std::string& value, const std::string& expected) {
  throw ConfigError(fmt::format("invalid value '{}' for {}: expected {}", value, key, expected));
}

int64_t parse_int(const std::string& key, const std::string& value, int64_t min, int64_t max) {
  int64_t result = 0;
  const std::string text = trim(value);
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), result);
  if (ec != std::errc() || ptr != text.data() + text.size() || text.empty() || result < min || result > max) {
    invalid(key, value, fmt::format("an integer in [{}, {}]", min, max));
  }
  return result;
}

bool parse_bool(const std::string& key, const std::string& value) {
  std::string text = trim(value);
  std::transform(text.begin(), text.end(), text.begin(), ::tolower);
  if (text == "true") return true;
  if (text == "false") return false;
  invalid(key, value, "true or false");
}

using Apply = std::function<void(BrokerConfig&, const std::string& key, const std::string& value)>;

Apply int32_setting(int32_t BrokerConfig::*field, int64_t min, int64_t max = INT32_MAX) {
  return [=](BrokerConfig& c, const std::string& k, const std::string& v) {
    c.*field = static_cast<int32_t>(parse_int(k, v, min, max));
  };
}
Apply int64_setting(int64_t BrokerConfig::*field, int64_t min, int64_t max = INT64_MAX) {
  return [=](BrokerConfig& c, const std::string& k, const std::string& v) { c.*field = parse_int(k, v, min, max); };
}
Apply scaled_ms_setting(int64_t BrokerConfig::*field, int64_t unit_ms) {
  return [=](BrokerConfig& c, const std::string& k, const std::string& v) {
    c.*field = parse_int(k, v, 1, INT64_MAX / unit_ms) * unit_ms;
  };
}

// Settings Runnel implements, with their validation.
const std::map<std::string, Apply>& known_settings() {
  static const std::map<std::string, Apply> settings = {
      {"node.id", int32_setting(&BrokerConfig::node_id, 0)},
      {"broker.id", int32_setting(&BrokerConfig::node_id, 0)},
      {"listeners", [](BrokerConfig& c, const std::string& k, const std::string& v) { c.listeners = parse_listeners(k, v); }},
      {"http.listeners",
       [](BrokerConfig& c, const std::string& k, const std::string& v) { c.http_listeners = parse_http_listeners(k, v); }},
      {"advertised.listeners",
       [](BrokerConfig& c, const std::string& k, const std::string& v) { c.advertised_listeners = parse_listeners(k, v); }},
      {"log.dirs",
       [](BrokerConfig& c, const std::string& k, const std::string& v) {
         c.log_dirs = split_config_list(v);
         if (c.log_dirs.empty()) invalid(k, v, "a comma-separated list of directories");
       }},
      {"log.dir",
       [](BrokerConfig& c, const std::string& k, const std::string& v) {
         c.log_dirs = split_config_list(v);
         if (c.log_dirs.size() != 1) invalid(k, v, "one directory");
       }},
      {"num.partitions", int32_setting(&BrokerConfig::num_partitions, 1, 100000)},
      {"default.replication.factor",
       [](BrokerConfig& c, const std::string& k, const std::string& v) {
         c.default_replication_factor = static_cast<int16_t>(parse_int(k, v, 1, INT16_MAX));
       }},
      {"auto.create.topics.enable",
       [](BrokerConfig& c, const std::string& k, const std::string& v) { c.auto_create_topics_enable = parse_bool(k, v); }},
      {"log.segment.bytes",
       [](BrokerConfig& c, const std::string& k, const std::string& v) { c.log_segment_bytes = parse_int(k, v, 14, INT32_MAX); }},
      {"log.roll.ms", int64_setting(&BrokerConfig::log_roll_ms, 1)},
      {"log.roll.hours", scaled_ms_setting(&BrokerConfig::log_roll_ms, 3600 * 1000)},
      {"log.index.interval.bytes", int32_setting(&BrokerConfig::log_index_interval_bytes, 0)},
      {"log.index.size.max.bytes", int32_setting(&BrokerConfig::log_index_size_max_bytes, 4096)},
      {"message.max.bytes", int32_setting(&BrokerConfig::message_max_bytes, 0)},
      {"socket.request.max.bytes", int32_setting(&BrokerConfig::socket_request_max_bytes, 1)},
      {"fetch.max.bytes", int32_setting(&BrokerConfig::fetch_max_bytes, 1024)},
      {"queued.max.request.bytes", int64_setting(&BrokerConfig::queued_max_request_bytes, -1)},
      {"max.connections", int32_setting(&BrokerConfig::max_connections, 1)},
      {"max.inflight.requests.per.connection", int32_setting(&BrokerConfig::max_inflight_requests_per_connection, 1, 10000)},
      {"connections.max.idle.ms", int64_setting(&BrokerConfig::connections_max_idle_ms, 1)},
      {"cluster.id", [](BrokerConfig& c, const std::string&, const std::string& v) { c.cluster_id = trim(v); }},
      {"broker.rack",
       [](BrokerConfig& c, const std::string&, const std::string& v) {
         const auto rack = trim(v);
         if (!rack.empty()) c.broker_rack = rack;
       }},
      {"metadata.store",
       [](BrokerConfig& c, const std::string& k, const std::string& v) {
         const auto text = trim(v);
         if (text != "local" && text.rfind("etcd://", 0) != 0)
           invalid(k, v, "local, or etcd://HOST:PORT[,HOST:PORT...]");
         if (text != "local") {
           for (const auto& endpoint : split_config_list(text.substr(7))) {
             const auto colon = endpoint.rfind(':');
             if (colon == std::string::npos || colon == 0) invalid(k, v, "etcd://HOST:PORT[,HOST:PORT...]");
             parse_int(k, endpoint.substr(colon + 1), 1, 65535);
           }
           if (split_config_list(text.substr(7)).empty()) invalid(k, v, "etcd://HOST:PORT[,HOST:PORT...]");
         }
         c.metadata_store = text;
       }},
      {"metadata.store.prefix",
       [](BrokerConfig& c, const std::string& k, const std::string& v) {
         const auto text = trim(v);
         if (text.empty() || text[0] != '/') invalid(k, v, "a key prefix starting with '/'");
         c.metadata_store_prefix = text;
       }},
      {"metadata.store.connect.timeout.ms", int64_setting(&BrokerConfig::metadata_store_connect_timeout_ms, 1)},
      {"broker.session.timeout.ms", int64_setting(&BrokerConfig::broker_session_timeout_ms, 1000)},
      {"broker.heartbeat.interval.ms", int64_setting(&BrokerConfig::broker_heartbeat_interval_ms, 100)},
      {"offsets.topic.replication.factor",
       [](BrokerConfig& c, const std::string& k, const std::string& v) {
         c.offsets_topic_replication_factor = static_cast<int16_t>(parse_int(k, v, 1, INT16_MAX));
       }},
      {"offsets.commit.timeout.ms", int64_setting(&BrokerConfig::offsets_commit_timeout_ms, 1)},
      {"num.replica.fetchers", int32_setting(&BrokerConfig::num_replica_fetchers, 1, 1000)},
      {"replica.fetch.max.bytes", int32_setting(&BrokerConfig::replica_fetch_max_bytes, 1024)},
      {"replica.fetch.response.max.bytes", int32_setting(&BrokerConfig::replica_fetch_response_max_bytes, 1024)},
      {"replica.fetch.wait.max.ms", int32_setting(&BrokerConfig::replica_fetch_wait_max_ms, 0)},
      {"replica.fetch.min.bytes", int32_setting(&BrokerConfig::replica_fetch_min_bytes, 1)},
      {"replica.fetch.backoff.ms", int32_setting(&BrokerConfig::replica_fetch_backoff_ms, 0)},
      {"replica.socket.timeout.ms", int32_setting(&BrokerConfig::replica_socket_timeout_ms, 100)},
      {"replica.lag.time.max.ms", int64_setting(&BrokerConfig::replica_lag_time_max_ms, 10)},
      {"inter.broker.listener.name",
       [](BrokerConfig& c, const std::string&, const std::string& v) { c.inter_broker_listener_name = trim(v); }},
      {"listener.security.protocol.map",
       [](BrokerConfig& c, const std::string& k, const std::string& v) {
         for (const auto& item : split_config_list(v)) {
           const auto colon = item.find(':');
           if (colon == std::string::npos) invalid(k, v, "a list like REPLICATION:PLAINTEXT,PLAINTEXT:PLAINTEXT");
           c.listener_security_protocols[trim(item.substr(0, colon))] = trim(item.substr(colon + 1));
         }
       }},
      {"replica.selector.class",
       [](BrokerConfig& c, const std::string& k, const std::string& v) {
         const auto text = trim(v);
         if (!text.empty() && text != "org.apache.kafka.common.replica.RackAwareReplicaSelector")
           invalid(k, v, "org.apache.kafka.common.replica.RackAwareReplicaSelector (or empty)");
         c.replica_selector_class = text;
       }},
      {"auto.leader.rebalance.enable",
       [](BrokerConfig& c, const std::string& k, const std::string& v) { c.auto_leader_rebalance_enable = parse_bool(k, v); }},
      {"leader.imbalance.check.interval.seconds",
       scaled_ms_setting(&BrokerConfig::leader_imbalance_check_interval_ms, 1000)},
      {"leader.imbalance.per.broker.percentage", int32_setting(&BrokerConfig::leader_imbalance_per_broker_percentage, 0, 100)},
      {"controlled.shutdown.enable",
       [](BrokerConfig& c, const std::string& k, const std::string& v) { c.controlled_shutdown_enable = parse_bool(k, v); }},
      {"controlled.shutdown.timeout.ms", int64_setting(&BrokerConfig::controlled_shutdown_timeout_ms, 0)},
      {"log.message.timestamp.type",
       [](BrokerConfig& c, const std::string& k, const std::string& v) {
         const auto text = trim(v);
         if (text != "CreateTime" && text != "LogAppendTime") invalid(k, v, "CreateTime or LogAppendTime");
         c.log_append_time = text == "LogAppendTime";
       }},
      {"log.flush.interval.messages",
       [](BrokerConfig& c, const std::string& k, const std::string& v) { c.log_flush_interval_messages = parse_int(k, v, 1, INT64_MAX); }},
      {"log.flush.interval.ms",
       [](BrokerConfig& c, const std::string& k, const std::string& v) { c.log_flush_interval_ms = parse_int(k, v, 0, INT64_MAX); }},
      {"offsets.topic.num.partitions", int32_setting(&BrokerConfig::offsets_topic_num_partitions, 1, 100000)},
      {"offsets.retention.minutes", scaled_ms_setting(&BrokerConfig::offsets_retention_ms, 60 * 1000)},
      {"offsets.retention.check.interval.ms", int64_setting(&BrokerConfig::offsets_retention_check_interval_ms, 1)},
      {"offset.metadata.max.bytes", int32_setting(&BrokerConfig::offset_metadata_max_bytes, 0)},
      {"group.initial.rebalance.delay.ms", int32_setting(&BrokerConfig::group_initial_rebalance_delay_ms, 0)},
      {"group.min.session.timeout.ms", int32_setting(&BrokerConfig::group_min_session_timeout_ms, 0)},
      {"group.max.session.timeout.ms", int32_setting(&BrokerConfig::group_max_session_timeout_ms, 0)},
      {"group.max.size", int32_setting(&BrokerConfig::group_max_size, 1)},
      {"log.retention.check.interval.ms", int64_setting(&BrokerConfig::log_retention_check_interval_ms, 1)},
      {"log.flush.offset.checkpoint.interval.ms",
       int64_setting(&BrokerConfig::log_flush_offset_checkpoint_interval_ms, 1)},
      {"log.flush.threads", int32_setting(&BrokerConfig::log_flush_threads, 1, 256)},
      {"log.journal.enable",
       [](BrokerConfig& c, const std::string& k, const std::string& v) { c.log_journal_enable = parse_bool(k, v); }},
      {"log.journal.checkpoint.bytes", int64_setting(&BrokerConfig::log_journal_checkpoint_bytes, 1)},
      {"log.journal.checkpoint.interval.ms", int64_setting(&BrokerConfig::log_journal_checkpoint_interval_ms, 1)},
      {"log.journal.max.log.bytes", int64_setting(&BrokerConfig::log_journal_max_log_bytes, 0)},
      {"log.cleaner.enable",
       [](BrokerConfig& c, const std::string& k, const std::string& v) { c.log_cleaner_enable = parse_bool(k, v); }},
      {"log.cleaner.backoff.ms", int64_setting(&BrokerConfig::log_cleaner_backoff_ms, 0)},
      {"producer.id.expiration.ms", int64_setting(&BrokerConfig::producer_id_expiration_ms, 1)},
      {"producer.id.expiration.check.interval.ms",
       int64_setting(&BrokerConfig::producer_id_expiration_check_interval_ms, 1)},
      {"transactional.id.expiration.ms", int64_setting(&BrokerConfig::transactional_id_expiration_ms, 1)},
  };
  return settings;
}

// Kafka broker settings that an existing server.properties may carry and that
// Runnel has no use for (yet): accepted with a one-line warning.
const std::set<std::string>& ignored_kafka_settings() {
  static const std::set<std::string> names = {
      "zookeeper.connect", "zookeeper.connection.timeout.ms", "zookeeper.session.timeout.ms",
      "num.network.threads", "num.io.threads", "background.threads",
      "socket.send.buffer.bytes", "socket.receive.buffer.bytes", "num.recovery.threads.per.data.dir",
      "transaction.state.log.replication.factor", "transaction.state.log.min.isr",
      "process.roles", "controller.quorum.voters",
      "controller.listener.names",
      "delete.topic.enable",
      "log.flush.scheduler.interval.ms",
      "queued.max.requests", "request.timeout.ms", "controlled.shutdown.max.retries",
      "controlled.shutdown.retry.backoff.ms", "metadata.log.dir", "share.coordinator.state.topic.replication.factor",
      "share.coordinator.state.topic.min.isr", "group.coordinator.rebalance.protocols", 
  };
  return names;
}

}  // namespace

std::vector<std::string> split_config_list(std::string_view text) {
  std::vector<std::string> items;
  size_t start = 0;
  while (start <= text.size()) {
    const auto comma = text.find(',', start);
    auto item = trim(text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (!item.empty()) items.push_back(std::move(item));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return items;
}

std::string Listener::to_string() const { return fmt::format("{}://{}:{}", name, host, port); }

std::vector<Listener> parse_listeners(const std::string& key, const std::string& text) {
  std::vector<Listener> result;
  for (const auto& item : split_config_list(text)) {
    const auto scheme_end = item.find("://");
    const auto colon = item.rfind(':');
    if (scheme_end == std::string::npos || colon == std::string::npos || colon < scheme_end + 3) {
      invalid(key, text, "a list like PLAINTEXT://host:port");
    }
    Listener listener;
    listener.name = item.substr(0, scheme_end);
    listener.host = item.substr(scheme_end + 3, colon - scheme_end - 3);
    if (listener.host.size() >= 2 && listener.host.front() == '[' && listener.host.back() == ']') {
      listener.host = listener.host.substr(1, listener.host.size() - 2);
    }
    listener.port = static_cast<uint16_t>(parse_int(key, item.substr(colon + 1), 0, 65535));
    if (listener.name.empty() || !std::all_of(listener.name.begin(), listener.name.end(), [](char ch) {
          return (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_';
        })) {
      invalid(key, text, "listener names in capitals, like PLAINTEXT://host:port");
    }
    result.push_back(listener);
  }
  if (result.empty()) invalid(key, text, "at least one listener like PLAINTEXT://host:port");
  return result;
}

std::vector<Listener> parse_http_listeners(const std::string& key, const std::string& text) {
  std::vector<Listener> result;
  for (const auto& item : split_config_list(text)) {
    constexpr std::string_view kScheme = "http://";
    const auto colon = item.rfind(':');
    if (item.rfind(kScheme, 0) != 0 || colon == std::string::npos || colon < kScheme.size()) {
      invalid(key, text, "a list like http://127.0.0.1:9644 (or empty to turn the endpoint off)");
    }
    Listener listener;
    listener.name = "http";
    listener.host = item.substr(kScheme.size(), colon - kScheme.size());
    if (listener.host.size() >= 2 && listener.host.front() == '[' && listener.host.back() == ']') {
      listener.host = listener.host.substr(1, listener.host.size() - 2);
    }
    listener.port = static_cast<uint16_t>(parse_int(key, item.substr(colon + 1), 0, 65535));
    result.push_back(listener);
  }
  return result;
}

void ConfigLoader::load_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError(fmt::format("cannot read config file {}", path));
  sources_.push_back(path);
  std::string line, pending;
  int line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    std::string text = trim(line);
    if (pending.empty() && (text.empty() || text[0] == '#' || text[0] == '!')) continue;
    // A trailing backslash continues the value on the next line (Java properties).
    if (!text.empty() && text.back() == '\\') {
      pending += text.substr(0, text.size() - 1);
      continue;
    }
    text = pending + text;
    pending.clear();
    const auto eq = text.find_first_of("=:");
    if (eq == std::string::npos) {
      throw ConfigError(fmt::format("{}:{}: expected key=value, got '{}'", path, line_number, text));
    }
    set(trim(text.substr(0, eq)), trim(text.substr(eq + 1)), fmt::format("{}:{}", path, line_number));
  }
}

void ConfigLoader::set_override(const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw ConfigError(fmt::format("--set expects key=value, got '{}'", assignment));
  }
  if (std::find(sources_.begin(), sources_.end(), "--set") == sources_.end()) sources_.push_back("--set");
  set(trim(assignment.substr(0, eq)), trim(assignment.substr(eq + 1)), "--set");
}

void ConfigLoader::set(const std::string& key, const std::string& value, const std::string& origin) {
  if (!known_settings().contains(key) && !find_topic_config_by_synonym(key)) {
    if (ignored_kafka_settings().contains(key)) {
      warnings_.push_back(fmt::format("ignoring Kafka setting {} ({}): not used by Runnel", key, origin));
      return;
    }
    throw ConfigError(fmt::format("unknown setting '{}' ({})", key, origin));
  }
  values_[key] = Entry{value, origin};
}

BrokerConfig ConfigLoader::build() const {
  BrokerConfig config;
  // log.dir is applied before log.dirs so that log.dirs wins when both are given, as in Kafka.
  std::vector<std::pair<std::string, Entry>> ordered(values_.begin(), values_.end());
  std::stable_sort(ordered.begin(), ordered.end(), [](const auto& a, const auto& b) {
    return (a.first == "log.dir" ? 0 : 1) < (b.first == "log.dir" ? 0 : 1);
  });
  for (const auto& [key, entry] : ordered) {
    if (auto it = known_settings().find(key); it != known_settings().end()) it->second(config, key, entry.value);
    // Broker defaults of topic configs are validated by the topic config's own rules.
    if (const auto* topic_config = find_topic_config_by_synonym(key)) {
      if (auto error = validate_topic_config(topic_config->name, entry.value)) {
        throw ConfigError(fmt::format("invalid value '{}' for {}: {}", entry.value, key, *error));
      }
    }
    config.explicit_settings[key] = entry.value;
  }
  if (values_.contains("broker.id") && values_.contains("node.id") &&
      values_.at("broker.id").value != values_.at("node.id").value) {
    throw ConfigError("broker.id and node.id are both set and differ");
  }
  if (config.group_min_session_timeout_ms > config.group_max_session_timeout_ms) {
    throw ConfigError("invalid value for group.min.session.timeout.ms: larger than group.max.session.timeout.ms");
  }
  for (const auto& listener : config.effective_advertised_listeners()) {
    if (listener.port == 0 && !config.advertised_listeners.empty()) {
      throw ConfigError("invalid value for advertised.listeners: port 0 cannot be advertised");
    }
  }
  // In a cluster other brokers connect to the advertised address: a wildcard or
  // empty host would send them to themselves (Kafka refuses 0.0.0.0 too).
  if (config.metadata_store != "local") {
    for (const auto& listener : config.effective_advertised_listeners()) {
      if (listener.host.empty() || listener.host == "0.0.0.0" || listener.host == "::" || listener.host == "[::]") {
        throw ConfigError(fmt::format(
            "invalid advertised listener {}: in a cluster it needs a host other brokers and clients can reach "
            "(set advertised.listeners)",
            listener.to_string()));
      }
    }
  }
  // Every listener speaks PLAINTEXT: named so, or mapped to it (TLS and SASL are not supported yet).
  for (const auto* list : {&config.listeners, &config.advertised_listeners}) {
    for (const auto& listener : *list) {
      auto mapped = config.listener_security_protocols.find(listener.name);
      const std::string protocol = mapped != config.listener_security_protocols.end() ? mapped->second : listener.name;
      if (protocol != "PLAINTEXT") {
        throw ConfigError(fmt::format(
            "invalid listener {}: only PLAINTEXT is supported (name it PLAINTEXT or map it in listener.security.protocol.map)",
            listener.to_string()));
      }
    }
  }
  if (!config.inter_broker_listener_name.empty() &&
      std::none_of(config.listeners.begin(), config.listeners.end(),
                   [&](const Listener& l) { return l.name == config.inter_broker_listener_name; })) {
    throw ConfigError(fmt::format("invalid value for inter.broker.listener.name: no listener is named {}",
                                  config.inter_broker_listener_name));
  }
  if (config.broker_heartbeat_interval_ms >= config.broker_session_timeout_ms) {
    throw ConfigError("invalid value for broker.heartbeat.interval.ms: must be below broker.session.timeout.ms");
  }
  if (!sources_.empty()) {
    config.source.clear();
    for (const auto& s : sources_) config.source += (config.source.empty() ? "" : " + ") + s;
  }
  return config;
}

}  // namespace runnel
