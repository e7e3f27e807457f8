#include "cluster/meta_properties.h"

#include <map>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "common/uuid.h"
#include "storage/env.h"

namespace runnel::cluster {
namespace {

std::string path_of(const std::string& dir) { return dir + "/" + kMetaPropertiesFile; }

}  // namespace

std::optional<MetaProperties> read_meta_properties(const std::string& log_dir) {
  auto& env = storage::Env::posix();
  const std::string path = path_of(log_dir);
  if (!env.exists(path)) return std::nullopt;
  std::string text;
  if (auto ec = storage::read_whole_file(env, path, text))
    throw std::runtime_error(fmt::format("cannot read {}: {}", path, ec.message()));
  std::map<std::string, std::string> values;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto eq = line.find('=');
    if (eq == std::string::npos) throw std::runtime_error(fmt::format("{} is malformed: '{}'", path, line));
    values[line.substr(0, eq)] = line.substr(eq + 1);
  }
  MetaProperties properties;
  properties.cluster_id = values["cluster.id"];
  properties.directory_id = values["directory.id"];
  try {
    if (values.count("node.id")) properties.node_id = std::stoi(values["node.id"]);
    else if (values.count("broker.id")) properties.node_id = std::stoi(values["broker.id"]);
  } catch (const std::exception&) {
    throw std::runtime_error(fmt::format("{} is malformed: node.id is not a number", path));
  }
  return properties;
}

void write_meta_properties(const std::string& log_dir, const MetaProperties& properties) {
  std::string text = "#\n#Written by runnel\n";
  text += "cluster.id=" + properties.cluster_id + "\n";
  text += "directory.id=" + properties.directory_id + "\n";
  text += "node.id=" + std::to_string(properties.node_id) + "\n";
  text += "version=1\n";
  auto& env = storage::Env::posix();
  if (auto ec = env.create_dir(log_dir)) throw std::runtime_error(fmt::format("cannot create {}: {}", log_dir, ec.message()));
  if (auto ec = storage::write_file_atomically(env, path_of(log_dir), text))
    throw std::runtime_error(fmt::format("cannot write {}: {}", path_of(log_dir), ec.message()));
}

std::optional<std::string> stored_cluster_id(const std::vector<std::string>& log_dirs) {
  std::optional<std::string> found;
  for (const auto& dir : log_dirs) {
    auto properties = read_meta_properties(dir);
    if (!properties || properties->cluster_id.empty()) continue;
    if (found && *found != properties->cluster_id) {
      throw std::runtime_error(fmt::format("log dirs belong to different clusters: {} and {} ({})", *found,
                                           properties->cluster_id, path_of(dir)));
    }
    found = properties->cluster_id;
  }
  return found;
}

std::string check_and_write_meta_properties(const std::vector<std::string>& log_dirs, const std::string& cluster_id,
                                            int32_t node_id) {
  std::string first_directory_id;
  for (const auto& dir : log_dirs) {
    auto properties = read_meta_properties(dir);
    if (properties) {
      if (!cluster_id.empty() && !properties->cluster_id.empty() && properties->cluster_id != cluster_id) {
        throw std::runtime_error(fmt::format(
            "cluster id mismatch: {} belongs to cluster {}, but the metadata store is cluster {}; refusing to start",
            path_of(dir), properties->cluster_id, cluster_id));
      }
      if (properties->node_id >= 0 && properties->node_id != node_id) {
        throw std::runtime_error(fmt::format("{} belongs to node {}, but node.id is {}; refusing to start", path_of(dir),
                                             properties->node_id, node_id));
      }
    }
    MetaProperties updated = properties.value_or(MetaProperties{});
    bool changed = !properties;
    if (updated.directory_id.empty()) {
      updated.directory_id = Uuid::random().to_base64();
      changed = true;
    }
    if (updated.cluster_id.empty() && !cluster_id.empty()) {
      updated.cluster_id = cluster_id;
      changed = true;
    }
    if (updated.node_id != node_id) {
      updated.node_id = node_id;
      changed = true;
    }
    if (changed) write_meta_properties(dir, updated);
    if (first_directory_id.empty()) first_directory_id = updated.directory_id;
  }
  return first_directory_id;
}

}  // namespace runnel::cluster
