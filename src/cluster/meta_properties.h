#pragma once
// meta.properties, Kafka's identity file at the top of every log dir: which
// cluster and node the data belongs to, and the dir's own id. A broker refuses
// to start on data of another cluster or another node id.
#include <optional>
#include <string>
#include <vector>

namespace runnel::cluster {

struct MetaProperties {
  std::string cluster_id;
  int32_t node_id = -1;
  std::string directory_id;  // 22-char base64 UUID, unique per log dir
};

inline constexpr const char* kMetaPropertiesFile = "meta.properties";

// nullopt when the file does not exist; throws std::runtime_error (one line) when it is unreadable or malformed.
std::optional<MetaProperties> read_meta_properties(const std::string& log_dir);
// Atomically (tmp, fsync, rename, fsync dir).
void write_meta_properties(const std::string& log_dir, const MetaProperties& properties);

// Checks every log dir against the cluster id (empty: not known yet) and node id,
// writes meta.properties where missing, and returns the directory id of the first
// dir (this broker's incarnation). Throws std::runtime_error with the one-line
// startup message on a mismatch.
std::string check_and_write_meta_properties(const std::vector<std::string>& log_dirs, const std::string& cluster_id,
                                            int32_t node_id);
// The cluster id the log dirs already carry, if any (all must agree).
std::optional<std::string> stored_cluster_id(const std::vector<std::string>& log_dirs);

}  // namespace runnel::cluster
