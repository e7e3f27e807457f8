#include "cluster/metadata_records.h"

#include <charconv>

#include <nlohmann/json.hpp>

namespace runnel::cluster {
namespace {

using nlohmann::json;

// Parses `text`, or nullopt; never throws.
std::optional<json> parse_json(const std::string& text) {
  json value = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded() || !value.is_object()) return std::nullopt;
  return value;
}

std::optional<int32_t> parse_id(std::string_view text) {
  int32_t value = 0;
  const auto* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || value < 0) return std::nullopt;
  return value;
}

std::vector<int32_t> int_list(const json& value) {
  std::vector<int32_t> out;
  for (const auto& item : value) out.push_back(item.get<int32_t>());
  return out;
}

}  // namespace

const BrokerEndpoint* BrokerRegistration::endpoint(const std::string& listener) const {
  for (const auto& e : endpoints)
    if (e.listener == listener) return &e;
  return nullptr;
}

MetadataKeys::MetadataKeys(std::string prefix) : prefix_(std::move(prefix)) {
  while (!prefix_.empty() && prefix_.back() == '/') prefix_.pop_back();
  prefix_ += '/';
}

MetadataKeys::Parsed MetadataKeys::parse(const std::string& key) const {
  Parsed parsed;
  if (key.compare(0, prefix_.size(), prefix_) != 0) return parsed;
  const std::string_view rest = std::string_view(key).substr(prefix_.size());
  auto after = [&](std::string_view head) -> std::optional<std::string_view> {
    if (rest.substr(0, head.size()) != head) return std::nullopt;
    return rest.substr(head.size());
  };
  using Kind = Parsed::Kind;
  if (rest == "cluster_id") {
    parsed.kind = Kind::kClusterId;
  } else if (rest == "controller") {
    parsed.kind = Kind::kController;
  } else if (rest == "controller_epoch") {
    parsed.kind = Kind::kControllerEpoch;
  } else if (rest == "producer_id_block") {
    parsed.kind = Kind::kProducerIdBlock;
  } else if (auto id = after("brokers/")) {
    if (auto n = parse_id(*id)) {
      parsed.kind = Kind::kBroker;
      parsed.id = *n;
    }
  } else if (auto topic = after("topics/")) {
    if (!topic->empty() && topic->find('/') == std::string_view::npos) {
      parsed.kind = Kind::kTopic;
      parsed.topic = *topic;
    }
  } else if (auto topic_of_config = after("configs/")) {
    if (!topic_of_config->empty() && topic_of_config->find('/') == std::string_view::npos) {
      parsed.kind = Kind::kConfig;
      parsed.topic = *topic_of_config;
    }
  } else if (auto path = after("partitions/")) {
    // Topic names never contain '/', so the last '/' separates the partition.
    const auto slash = path->rfind('/');
    if (slash != std::string_view::npos && slash > 0) {
      if (auto n = parse_id(path->substr(slash + 1))) {
        parsed.kind = Kind::kPartition;
        parsed.topic = path->substr(0, slash);
        parsed.id = *n;
      }
    }
  }
  return parsed;
}

std::string encode(const BrokerRegistration& broker) {
  json endpoints = json::array();
  for (const auto& e : broker.endpoints) endpoints.push_back({{"listener", e.listener}, {"host", e.host}, {"port", e.port}});
  json value = {{"id", broker.id},
                {"endpoints", endpoints},
                {"incarnation", broker.incarnation},
                {"inter_broker_listener", broker.inter_broker_listener},
                {"shutting_down", broker.shutting_down}};
  if (broker.rack) value["rack"] = *broker.rack;
  return value.dump();
}

std::optional<BrokerRegistration> decode_broker(const std::string& text) {
  auto value = parse_json(text);
  if (!value) return std::nullopt;
  try {
    BrokerRegistration broker;
    broker.id = value->at("id").get<int32_t>();
    for (const auto& e : value->at("endpoints"))
      broker.endpoints.push_back({e.at("listener").get<std::string>(), e.at("host").get<std::string>(),
                                  e.at("port").get<int32_t>()});
    if (auto it = value->find("rack"); it != value->end() && it->is_string()) broker.rack = it->get<std::string>();
    broker.incarnation = value->value("incarnation", "");
    broker.inter_broker_listener = value->value("inter_broker_listener", "");
    broker.shutting_down = value->value("shutting_down", false);
    return broker;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

std::string encode(const ControllerRecord& controller) {
  return json{{"broker_id", controller.broker_id}, {"epoch", controller.epoch}}.dump();
}

std::optional<ControllerRecord> decode_controller(const std::string& text) {
  auto value = parse_json(text);
  if (!value) return std::nullopt;
  try {
    return ControllerRecord{value->at("broker_id").get<int32_t>(), value->at("epoch").get<int64_t>(), 0};
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

std::string encode(const TopicRecord& topic) {
  return json{{"id", topic.id.to_base64()}, {"partitions", topic.partitions}}.dump();
}

std::optional<TopicRecord> decode_topic(const std::string& text) {
  auto value = parse_json(text);
  if (!value) return std::nullopt;
  try {
    auto id = Uuid::from_base64(value->at("id").get<std::string>());
    const auto partitions = value->at("partitions").get<int32_t>();
    if (!id || id->is_zero() || partitions < 0) return std::nullopt;
    return TopicRecord{*id, partitions};
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

std::string encode(const PartitionState& state) {
  json value = {{"replicas", state.replicas},
                {"isr", state.isr},
                {"leader", state.leader},
                {"leader_epoch", state.leader_epoch},
                {"partition_epoch", state.partition_epoch},
                {"leader_broker_epoch", state.leader_broker_epoch}};
  if (!state.adding_replicas.empty()) value["adding_replicas"] = state.adding_replicas;
  if (!state.removing_replicas.empty()) value["removing_replicas"] = state.removing_replicas;
  return value.dump();
}

std::optional<PartitionState> decode_partition(const std::string& text) {
  auto value = parse_json(text);
  if (!value) return std::nullopt;
  try {
    PartitionState state;
    state.replicas = int_list(value->at("replicas"));
    state.isr = int_list(value->at("isr"));
    state.leader = value->at("leader").get<int32_t>();
    state.leader_epoch = value->at("leader_epoch").get<int32_t>();
    state.partition_epoch = value->at("partition_epoch").get<int32_t>();
    state.leader_broker_epoch = value->value("leader_broker_epoch", int64_t{0});
    if (auto it = value->find("adding_replicas"); it != value->end()) state.adding_replicas = int_list(*it);
    if (auto it = value->find("removing_replicas"); it != value->end()) state.removing_replicas = int_list(*it);
    return state;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

std::string encode_configs(const ConfigMap& configs) { return json(configs).dump(); }

std::optional<ConfigMap> decode_configs(const std::string& text) {
  auto value = parse_json(text);
  if (!value) return std::nullopt;
  ConfigMap configs;
  for (const auto& [key, item] : value->items()) {
    if (!item.is_string()) return std::nullopt;
    configs[key] = item.get<std::string>();
  }
  return configs;
}

std::optional<int64_t> decode_int(const std::string& text) {
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace runnel::cluster
