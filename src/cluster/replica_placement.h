#pragma once
// Where the replicas of new partitions go: Kafka's striped placement. The first
// replica (the preferred leader) walks round the brokers, so leaders spread
// evenly; followers are shifted so that no two brokers hold all the same
// partitions; with broker.rack set, the replicas of a partition go to as many
// different racks as there are.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace runnel::cluster {

struct PlacementBroker {
  int32_t id = -1;
  std::optional<std::string> rack;
  int32_t preferred_leaderships = 0;  // partitions it is the first replica of today
};

// Assignments for partitions first..first+count-1, or an empty vector when
// replication_factor exceeds the brokers. Deterministic for the same inputs.
std::vector<std::vector<int32_t>> place_replicas(std::vector<PlacementBroker> brokers, int32_t first, int32_t count,
                                                 int32_t replication_factor);

}  // namespace runnel::cluster
