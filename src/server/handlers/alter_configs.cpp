// AlterConfigs (replace a topic's whole override set) and
// IncrementalAlterConfigs (SET / DELETE / APPEND / SUBTRACT per key). Topic
// configs live in the metadata store: the controller writes them (requests are
// forwarded there), every broker applies them from its image.
#include <algorithm>
#include <set>

#include "protocol/messages/alter_configs.h"
#include "protocol/messages/incremental_alter_configs.h"
#include "server/api_handlers.h"
#include "server/controller_routing.h"
#include "server/handlers/config_resources.h"

namespace runnel::server {
namespace {

enum class AlterOp : int8_t { kSet = 0, kDelete = 1, kAppend = 2, kSubtract = 3 };

std::string join_list(const std::vector<std::string>& items) {
  std::string text;
  for (const auto& item : items) text += (text.empty() ? "" : ",") + item;
  return text;
}

// Checks the resource is an existing topic (broker configs are static in Runnel).
AdminResult check_resource(const BrokerContext& broker, int8_t type, const std::string& name) {
  switch (static_cast<ConfigResourceType>(type)) {
    case ConfigResourceType::kTopic:
      if (!broker.cluster.image()->topic(name))
        return {ErrorCode::kUnknownTopicOrPartition, "Topic " + name + " does not exist"};
      return {};
    case ConfigResourceType::kBroker:
      if (!names_this_broker(broker.config, name) && !broker.cluster.image()->broker(std::atoi(name.c_str())))
        return {ErrorCode::kInvalidRequest, "Unexpected broker id"};
      return {ErrorCode::kInvalidConfig,
              "Runnel broker configs are static: set them in the config file or with --set and restart"};
    default:
      return {ErrorCode::kInvalidRequest, "Unsupported resource type " + std::to_string(type)};
  }
}

// Resources named twice in one request are rejected, as Kafka does.
template <typename Resources>
std::set<std::pair<int8_t, std::string>> duplicate_resources(const Resources& resources) {
  std::set<std::pair<int8_t, std::string>> seen, duplicates;
  for (const auto& r : resources) {
    if (!seen.insert({r.resource_type, r.resource_name}).second) duplicates.insert({r.resource_type, r.resource_name});
  }
  return duplicates;
}

template <typename Out>
void set_result(Out& out, const AdminResult& result) {
  out.error_code = to_wire(result.error);
  if (!result.ok()) out.error_message = result.message;
}

AdminResult validate_overrides(const ConfigMap& overrides) {
  for (const auto& [key, value] : overrides) {
    if (auto error = validate_topic_config(key, value)) return {ErrorCode::kInvalidConfig, *error};
  }
  return {};
}

AdminResult apply_incremental(const BrokerContext& broker,
                              const protocol::IncrementalAlterConfigsRequest::AlterConfigsResource& resource,
                              ConfigMap& overrides) {
  std::set<std::string> keys;
  for (const auto& config : resource.configs) {
    if (!keys.insert(config.name).second) {
      return {ErrorCode::kInvalidRequest, "Error due to duplicate config keys: " + config.name};
    }
    const auto* def = find_topic_config(config.name);
    if (!def) return {ErrorCode::kInvalidConfig, "Unknown topic config name: " + config.name};
    switch (static_cast<AlterOp>(config.config_operation)) {
      case AlterOp::kSet:
        if (!config.value) return {ErrorCode::kInvalidRequest, "Null value not supported for SET: " + config.name};
        overrides[config.name] = *config.value;
        break;
      case AlterOp::kDelete:
        overrides.erase(config.name);
        break;
      case AlterOp::kAppend:
      case AlterOp::kSubtract: {
        if (def->type != ConfigType::kList) {
          return {ErrorCode::kInvalidConfig, "Config value append/subtract is not allowed for config key " + config.name};
        }
        auto items = split_config_list(broker.resolver.value(overrides, config.name));
        for (const auto& item : split_config_list(config.value.value_or(""))) {
          const auto found = std::find(items.begin(), items.end(), item);
          if (static_cast<AlterOp>(config.config_operation) == AlterOp::kAppend) {
            if (found == items.end()) items.push_back(item);
          } else if (found != items.end()) {
            items.erase(found);
          }
        }
        overrides[config.name] = join_list(items);
        break;
      }
      default:
        return {ErrorCode::kInvalidRequest, "Unknown config operation " + std::to_string(config.config_operation)};
    }
  }
  return {};
}

}  // namespace

asio::awaitable<void> handle_alter_configs(BrokerContext& broker, RequestContext& context) {
  const auto request = context.decode_body<protocol::AlterConfigsRequest>();
  const auto route = co_await route_to_controller(broker, context);
  if (route == Routing::kForwarded) co_return;
  protocol::AlterConfigsResponse response;
  const auto duplicates = duplicate_resources(request.resources);
  for (const auto& resource : request.resources) {
    auto& out = response.responses.emplace_back();
    out.resource_type = resource.resource_type;
    out.resource_name = resource.resource_name;
    AdminResult result;
    if (route == Routing::kNoController) result = {ErrorCode::kNotController, "No controller could be reached."};
    if (result.ok() && duplicates.contains({resource.resource_type, resource.resource_name})) {
      result = {ErrorCode::kInvalidRequest, "Error due to duplicate resource in request"};
    }
    if (result.ok()) result = check_resource(broker, resource.resource_type, resource.resource_name);
    ConfigMap overrides;
    for (const auto& config : resource.configs) {
      if (!result.ok()) break;
      if (!config.value) result = {ErrorCode::kInvalidRequest, "Null value not supported for: " + config.name};
      else overrides[config.name] = *config.value;
    }
    if (result.ok()) result = validate_overrides(overrides);
    if (result.ok() && !request.validate_only)
      result = co_await broker.cluster.controller().set_topic_configs(resource.resource_name, overrides);
    set_result(out, result);
  }
  context.respond(response);
}

asio::awaitable<void> handle_incremental_alter_configs(BrokerContext& broker, RequestContext& context) {
  const auto request = context.decode_body<protocol::IncrementalAlterConfigsRequest>();
  const auto route = co_await route_to_controller(broker, context);
  if (route == Routing::kForwarded) co_return;
  protocol::IncrementalAlterConfigsResponse response;
  const auto duplicates = duplicate_resources(request.resources);
  for (const auto& resource : request.resources) {
    auto& out = response.responses.emplace_back();
    out.resource_type = resource.resource_type;
    out.resource_name = resource.resource_name;
    AdminResult result;
    if (route == Routing::kNoController) result = {ErrorCode::kNotController, "No controller could be reached."};
    if (result.ok() && duplicates.contains({resource.resource_type, resource.resource_name})) {
      result = {ErrorCode::kInvalidRequest, "Error due to duplicate resource in request"};
    }
    if (result.ok()) result = check_resource(broker, resource.resource_type, resource.resource_name);
    ConfigMap overrides;
    if (result.ok()) {
      overrides = broker.cluster.image()->topic(resource.resource_name)->configs;
      result = apply_incremental(broker, resource, overrides);
    }
    if (result.ok()) result = validate_overrides(overrides);
    if (result.ok() && !request.validate_only)
      result = co_await broker.cluster.controller().set_topic_configs(resource.resource_name, overrides);
    set_result(out, result);
  }
  context.respond(response);
}

}  // namespace runnel::server
