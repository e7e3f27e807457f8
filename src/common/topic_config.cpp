#include "common/topic_config.h"
#include "common/config.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace runnel {
namespace {

constexpr int64_t kHour = 3600 * 1000LL;
constexpr int64_t kMinute = 60 * 1000LL;
constexpr int64_t kMaxLong = INT64_MAX;

const std::vector<TopicConfigDefinition>& definitions() {
  static const std::vector<TopicConfigDefinition> defs = {
      {"cleanup.policy", ConfigType::kList, "delete", {{"log.cleanup.policy"}}, 0, 0, {"delete", "compact"},
       "What to do with old segments: delete them, compact them by key, or both."},
      {"compression.type", ConfigType::kString, "producer", {{"compression.type"}}, 0, 0,
       {"producer", "uncompressed", "gzip", "snappy", "lz4", "zstd"},
       "Compression of stored batches; 'producer' keeps what the producer sent."},
      {"delete.retention.ms", ConfigType::kLong, "86400000", {{"log.cleaner.delete.retention.ms"}}, 0, kMaxLong, {},
       "How long tombstones are kept on compacted topics."},
      {"file.delete.delay.ms", ConfigType::kLong, "60000", {{"log.segment.delete.delay.ms"}}, 0, kMaxLong, {},
       "Delay before a deleted segment's files are removed."},
      {"flush.messages", ConfigType::kLong, "9223372036854775807", {{"log.flush.interval.messages"}}, 1, kMaxLong, {},
       "Force an fsync after this many messages."},
      {"flush.ms", ConfigType::kLong, "9223372036854775807", {{"log.flush.interval.ms"}}, 0, kMaxLong, {},
       "Force an fsync after this much time."},
      {"index.interval.bytes", ConfigType::kInt, "4096", {{"log.index.interval.bytes"}}, 0, INT32_MAX, {},
       "Bytes between offset index entries."},
      {"max.compaction.lag.ms", ConfigType::kLong, "9223372036854775807", {{"log.cleaner.max.compaction.lag.ms"}}, 1,
       kMaxLong, {}, "Longest time a record stays ineligible for compaction."},
      {"max.message.bytes", ConfigType::kInt, "1048588", {{"message.max.bytes"}}, 0, INT32_MAX, {},
       "Largest record batch accepted."},
      {"message.timestamp.type", ConfigType::kString, "CreateTime", {{"log.message.timestamp.type"}}, 0, 0,
       {"CreateTime", "LogAppendTime"}, "Whether record timestamps are the producer's or the broker's append time."},
      {"min.cleanable.dirty.ratio", ConfigType::kDouble, "0.5", {{"log.cleaner.min.cleanable.ratio"}}, 0, 1, {},
       "Share of uncompacted log that triggers compaction."},
      {"min.compaction.lag.ms", ConfigType::kLong, "0", {{"log.cleaner.min.compaction.lag.ms"}}, 0, kMaxLong, {},
       "Shortest time a record stays uncompacted."},
      {"min.insync.replicas", ConfigType::kInt, "1", {{"min.insync.replicas"}}, 1, INT32_MAX, {},
       "Replicas that must hold an acks=all write."},
      {"preallocate", ConfigType::kBoolean, "false", {{"log.preallocate"}}, 0, 0, {}, "Preallocate segment files."},
      {"retention.bytes", ConfigType::kLong, "-1", {{"log.retention.bytes"}}, -1, kMaxLong, {},
       "Largest size of a partition before old segments are deleted; -1 for no limit."},
      {"retention.ms", ConfigType::kLong, "604800000",
       {{"log.retention.ms"}, {"log.retention.minutes", kMinute}, {"log.retention.hours", kHour}}, -1, kMaxLong, {},
       "How long records are kept; -1 for forever."},
      {"segment.bytes", ConfigType::kInt, "1073741824", {{"log.segment.bytes"}}, 14, INT32_MAX, {},
       "Segment file size."},
      {"segment.index.bytes", ConfigType::kInt, "10485760", {{"log.index.size.max.bytes"}}, 4, INT32_MAX, {},
       "Preallocated offset index size."},
      {"segment.jitter.ms", ConfigType::kLong, "0", {{"log.roll.jitter.ms"}, {"log.roll.jitter.hours", kHour}}, 0,
       kMaxLong, {}, "Random jitter subtracted from segment.ms."},
      {"segment.ms", ConfigType::kLong, "604800000", {{"log.roll.ms"}, {"log.roll.hours", kHour}}, 1, kMaxLong, {},
       "Roll a segment after this much time."},
      {"unclean.leader.election.enable", ConfigType::kBoolean, "false", {{"unclean.leader.election.enable"}}, 0, 0, {},
       "Allow an out-of-sync replica to become leader."},
  };
  return defs;
}

std::string error_for(std::string_view name, std::string_view value, std::string_view why) {
  return fmt::format("Invalid value {} for configuration {}: {}", value, name, why);
}

std::optional<int64_t> parse_long(std::string_view text) {
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || text.empty()) return std::nullopt;
  return v;
}

}  // namespace

std::span<const TopicConfigDefinition> topic_config_definitions() { return definitions(); }

const TopicConfigDefinition* find_topic_config(std::string_view name) {
  for (const auto& def : definitions()) {
    if (def.name == name) return &def;
  }
  return nullptr;
}

const TopicConfigDefinition* find_topic_config_by_synonym(std::string_view broker_setting) {
  for (const auto& def : definitions()) {
    for (const auto& synonym : def.synonyms) {
      if (synonym.name == broker_setting) return &def;
    }
  }
  return nullptr;
}

std::optional<std::string> validate_topic_config(std::string_view name, std::string_view value) {
  const auto* def = find_topic_config(name);
  if (!def) return fmt::format("Unknown topic config name: {}", name);
  switch (def->type) {
    case ConfigType::kBoolean:
      if (value != "true" && value != "false") return error_for(name, value, "Expected value to be either true or false");
      return std::nullopt;
    case ConfigType::kInt:
    case ConfigType::kShort:
    case ConfigType::kLong: {
      const auto parsed = parse_long(value);
      if (!parsed) return error_for(name, value, "Not a number");
      if (*parsed < def->min || *parsed > def->max) {
        return error_for(name, value, fmt::format("Value must be in [{}, {}]", def->min, def->max));
      }
      return std::nullopt;
    }
    case ConfigType::kDouble: {
      char* end = nullptr;
      const std::string text(value);
      const double parsed = std::strtod(text.c_str(), &end);
      if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(parsed)) {
        return error_for(name, value, "Not a number");
      }
      if (parsed < static_cast<double>(def->min) || parsed > static_cast<double>(def->max)) {
        return error_for(name, value, fmt::format("Value must be in [{}, {}]", def->min, def->max));
      }
      return std::nullopt;
    }
    case ConfigType::kString:
      if (!def->allowed.empty() && std::find(def->allowed.begin(), def->allowed.end(), value) == def->allowed.end()) {
        return error_for(name, value, fmt::format("String must be one of: {}", fmt::join(def->allowed, ", ")));
      }
      return std::nullopt;
    case ConfigType::kList: {
      const auto items = split_config_list(value);
      if (items.empty()) return error_for(name, value, "Expected a non-empty list");
      for (const auto& item : items) {
        if (std::find(def->allowed.begin(), def->allowed.end(), item) == def->allowed.end()) {
          return error_for(name, value, fmt::format("List items must be in: {}", fmt::join(def->allowed, ", ")));
        }
      }
      return std::nullopt;
    }
  }
  return std::nullopt;
}

DescribedConfig TopicConfigResolver::resolve(const TopicConfigDefinition& def, const ConfigMap& overrides) const {
  DescribedConfig out{std::string(def.name), std::string(def.default_value), ConfigSource::kDefault, def.type,
                      def.documentation, {}};
  std::optional<std::pair<std::string, ConfigSource>> chosen;
  if (auto it = overrides.find(std::string(def.name)); it != overrides.end()) {
    out.synonyms.push_back({out.name, it->second, ConfigSource::kDynamicTopic});
    chosen = {it->second, ConfigSource::kDynamicTopic};
  }
  for (const auto& synonym : def.synonyms) {
    auto it = broker_settings_.find(std::string(synonym.name));
    if (it == broker_settings_.end()) continue;
    std::string value = it->second;
    if (synonym.scale != 1) {
      if (auto parsed = parse_long(value)) value = std::to_string(*parsed * synonym.scale);
    }
    out.synonyms.push_back({std::string(synonym.name), it->second, ConfigSource::kStaticBroker});
    if (!chosen) chosen = {value, ConfigSource::kStaticBroker};
  }
  out.synonyms.push_back({std::string(def.synonyms.empty() ? def.name : def.synonyms.front().name),
                          std::string(def.default_value), ConfigSource::kDefault});
  if (chosen) {
    out.value = chosen->first;
    out.source = chosen->second;
  }
  return out;
}

std::vector<DescribedConfig> TopicConfigResolver::describe(const ConfigMap& overrides) const {
  std::vector<DescribedConfig> result;
  for (const auto& def : definitions()) result.push_back(resolve(def, overrides));
  return result;
}

std::string TopicConfigResolver::value(const ConfigMap& overrides, std::string_view name) const {
  const auto* def = find_topic_config(name);
  return def ? resolve(*def, overrides).value : std::string();
}

int64_t TopicConfigResolver::int_value(const ConfigMap& overrides, std::string_view name) const {
  return parse_long(value(overrides, name)).value_or(0);
}

double TopicConfigResolver::double_value(const ConfigMap& overrides, std::string_view name) const {
  return std::strtod(value(overrides, name).c_str(), nullptr);
}

}  // namespace runnel
