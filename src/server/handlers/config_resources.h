#pragma once
// Config resources shared by DescribeConfigs, AlterConfigs and
// IncrementalAlterConfigs: which resource a request names and what it holds.
#include <cstdint>
#include <string>
#include <vector>

#include "common/topic_config.h"
#include "server/broker_context.h"

namespace runnel::server {

enum class ConfigResourceType : int8_t { kTopic = 2, kBroker = 4, kBrokerLogger = 8 };

// Every broker setting DescribeConfigs shows, with its value and source. Static:
// broker settings change only with a restart.
std::vector<DescribedConfig> describe_broker_configs(const BrokerConfig& config);

// "" (cluster default) or this broker's id.
bool names_this_broker(const BrokerConfig& config, const std::string& resource_name);

}  // namespace runnel::server
