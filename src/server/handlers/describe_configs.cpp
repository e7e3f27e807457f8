// DescribeConfigs: topic configs (with sources and synonyms), from the metadata
// image so every broker answers the same, and this broker's configs.
#include <algorithm>

#include "protocol/messages/describe_configs.h"
#include "server/api_handlers.h"
#include "server/handlers/config_resources.h"

namespace runnel::server {

asio::awaitable<void> handle_describe_configs(BrokerContext& broker, RequestContext& context) {
  const auto request = context.decode_body<protocol::DescribeConfigsRequest>();
  const int16_t version = context.version();
  protocol::DescribeConfigsResponse response;
  for (const auto& resource : request.resources) {
    auto& out = response.results.emplace_back();
    out.resource_type = resource.resource_type;
    out.resource_name = resource.resource_name;
    std::vector<DescribedConfig> configs;
    bool read_only = false;
    switch (static_cast<ConfigResourceType>(resource.resource_type)) {
      case ConfigResourceType::kTopic:
        if (const auto* topic = broker.cluster.image()->topic(resource.resource_name)) {
          configs = broker.resolver.describe(topic->configs);
          break;
        }
        out.error_code = to_wire(ErrorCode::kUnknownTopicOrPartition);
        out.error_message = "Topic " + resource.resource_name + " does not exist";
        continue;
      case ConfigResourceType::kBroker:
        if (!names_this_broker(broker.config, resource.resource_name)) {
          out.error_code = to_wire(ErrorCode::kInvalidRequest);
          out.error_message = "Unexpected broker id, expected " + std::to_string(broker.config.node_id);
          continue;
        }
        configs = describe_broker_configs(broker.config);
        read_only = true;
        break;
      default:
        out.error_code = to_wire(ErrorCode::kInvalidRequest);
        out.error_message = "Unsupported resource type " + std::to_string(resource.resource_type);
        continue;
    }
    for (const auto& config : configs) {
      if (resource.configuration_keys &&
          std::find(resource.configuration_keys->begin(), resource.configuration_keys->end(), config.name) ==
              resource.configuration_keys->end()) {
        continue;
      }
      auto& entry = out.configs.emplace_back();
      entry.name = config.name;
      entry.value = config.value;
      entry.read_only = read_only;
      entry.is_default = config.source == ConfigSource::kDefault;
      entry.config_source = static_cast<int8_t>(config.source);
      entry.is_sensitive = false;
      entry.config_type = static_cast<int8_t>(config.type);
      if (request.include_documentation && !config.documentation.empty()) {
        entry.documentation = std::string(config.documentation);
      }
      if (version >= 1 && request.include_synonyms) {
        for (const auto& synonym : config.synonyms) {
          auto& s = entry.synonyms.emplace_back();
          s.name = synonym.name;
          s.value = synonym.value;
          s.source = static_cast<int8_t>(synonym.source);
        }
      }
    }
  }
  context.respond(response);
  co_return;
}

}  // namespace runnel::server
