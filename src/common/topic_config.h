#pragma once
// Topic-level configuration with Kafka's names, types, validation and defaults.
// A topic's effective value is its own override if set, else the broker's
// setting of the synonym (e.g. log.retention.hours for retention.ms), else
// Kafka's default. DescribeConfigs reports which of these it came from.
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace runnel {

// Wire values of DescribeConfigs' config_source.
enum class ConfigSource : int8_t {
  kUnknown = 0,
  kDynamicTopic = 1,
  kDynamicBroker = 2,
  kDynamicDefaultBroker = 3,
  kStaticBroker = 4,
  kDefault = 5,
};

// Wire values of DescribeConfigs' config_type (v3+).
enum class ConfigType : int8_t {
  kBoolean = 1,
  kString = 2,
  kInt = 3,
  kShort = 4,
  kLong = 5,
  kDouble = 6,
  kList = 7,
};

struct TopicConfigDefinition {
  std::string_view name;
  ConfigType type;
  std::string_view default_value;
  // Broker settings that supply the default, most specific first, with the factor
  // that turns their unit into this setting's (e.g. hours -> ms).
  struct Synonym {
    std::string_view name;
    int64_t scale = 1;
  };
  std::vector<Synonym> synonyms;
  int64_t min = INT64_MIN;  // numeric bounds
  int64_t max = INT64_MAX;
  std::vector<std::string_view> allowed;  // enumerations and list items
  std::string_view documentation;
};

using ConfigMap = std::map<std::string, std::string>;

struct ConfigSynonymValue {
  std::string name;
  std::string value;
  ConfigSource source;
};

struct DescribedConfig {
  std::string name;
  std::string value;
  ConfigSource source;
  ConfigType type;
  std::string_view documentation;
  std::vector<ConfigSynonymValue> synonyms;  // topic override first, then broker, then default
};

std::span<const TopicConfigDefinition> topic_config_definitions();
const TopicConfigDefinition* find_topic_config(std::string_view name);
// Is this broker setting the synonym of a topic config?
const TopicConfigDefinition* find_topic_config_by_synonym(std::string_view broker_setting);

// nullopt if valid, else a message naming the key ("Invalid value x for configuration retention.ms: ...").
std::optional<std::string> validate_topic_config(std::string_view name, std::string_view value);

class TopicConfigResolver {
 public:
  // broker_settings: the broker's explicitly set settings (file and --set), raw.
  explicit TopicConfigResolver(ConfigMap broker_settings) : broker_settings_(std::move(broker_settings)) {}

  // The effective value of every topic config for a topic with these overrides.
  std::vector<DescribedConfig> describe(const ConfigMap& overrides) const;
  std::string value(const ConfigMap& overrides, std::string_view name) const;
  int64_t int_value(const ConfigMap& overrides, std::string_view name) const;
  double double_value(const ConfigMap& overrides, std::string_view name) const;

 private:
  DescribedConfig resolve(const TopicConfigDefinition& def, const ConfigMap& overrides) const;
  ConfigMap broker_settings_;
};

}  // namespace runnel
