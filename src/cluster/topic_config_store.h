#pragma once
// Durable per-topic config overrides for a single node (the role etcd plays in a
// cluster): one text file at the root of the first log dir, replaced atomically
// (write temp, fsync, rename, fsync dir) on every change.
#include <map>
#include <string>
#include <system_error>

#include "common/topic_config.h"

namespace runnel::cluster {

class TopicConfigStore {
 public:
  static constexpr const char* kFileName = "runnel-topic-configs";

  // Loads the file if present. A garbage file is reported in ec and ignored.
  std::error_code open(const std::string& dir);

  const ConfigMap& overrides(const std::string& topic) const;
  std::error_code set(const std::string& topic, ConfigMap overrides);
  std::error_code erase(const std::string& topic);

  // File format: "topic<TAB>key<TAB>value" lines with %-escaped fields.
  static std::string format(const std::map<std::string, ConfigMap>& topics);
  static bool parse(const std::string& text, std::map<std::string, ConfigMap>& topics);

 private:
  std::error_code save() const;

  std::string path_;
  std::map<std::string, ConfigMap> topics_;
};

}  // namespace runnel::cluster
