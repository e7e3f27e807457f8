#include "server/handlers/config_resources.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace runnel::server {
namespace {

std::string listeners_text(const std::vector<Listener>& listeners) {
  std::string text;
  for (const auto& l : listeners) text += (text.empty() ? "" : ",") + l.to_string();
  return text;
}

}  // namespace

bool names_this_broker(const BrokerConfig& config, const std::string& resource_name) {
  return resource_name.empty() || resource_name == std::to_string(config.node_id);
}

std::vector<DescribedConfig> describe_broker_configs(const BrokerConfig& config) {
  const std::vector<std::tuple<std::string, std::string, ConfigType>> own = {
      {"node.id", std::to_string(config.node_id), ConfigType::kInt},
      {"broker.id", std::to_string(config.node_id), ConfigType::kInt},
      {"listeners", listeners_text(config.listeners), ConfigType::kString},
      {"advertised.listeners", listeners_text(config.effective_advertised_listeners()), ConfigType::kString},
      {"log.dirs", fmt::format("{}", fmt::join(config.log_dirs, ",")), ConfigType::kString},
      {"num.partitions", std::to_string(config.num_partitions), ConfigType::kInt},
      {"default.replication.factor", std::to_string(config.default_replication_factor), ConfigType::kShort},
      {"auto.create.topics.enable", config.auto_create_topics_enable ? "true" : "false", ConfigType::kBoolean},
      {"socket.request.max.bytes", std::to_string(config.socket_request_max_bytes), ConfigType::kInt},
      {"connections.max.idle.ms", std::to_string(config.connections_max_idle_ms), ConfigType::kLong},
      {"max.connections", std::to_string(config.max_connections), ConfigType::kInt},
  };
  std::vector<DescribedConfig> result;
  for (const auto& [name, value, type] : own) {
    const bool explicit_value = config.explicit_settings.contains(name);
    result.push_back({name, value, explicit_value ? ConfigSource::kStaticBroker : ConfigSource::kDefault, type, {}, {}});
  }
  // Broker defaults of topic configs, under their broker names.
  for (const auto& def : topic_config_definitions()) {
    for (const auto& synonym : def.synonyms) {
      const std::string name(synonym.name);
      if (std::any_of(result.begin(), result.end(), [&](const auto& c) { return c.name == name; })) continue;
      const auto it = config.explicit_settings.find(name);
      if (it != config.explicit_settings.end()) {
        result.push_back({name, it->second, ConfigSource::kStaticBroker, def.type, def.documentation, {}});
      } else if (synonym.scale == 1) {
        result.push_back({name, std::string(def.default_value), ConfigSource::kDefault, def.type, def.documentation, {}});
      }
    }
  }
  return result;
}

}  // namespace runnel::server
