#pragma once
// A partition's leadership as the controller decided it (Kafka's LeaderAndIsr):
// what a replica needs to act as leader or follower. The cluster layer fills it
// from the metadata image.
#include <cstdint>
#include <vector>

namespace runnel::replication {

struct LeaderAndIsr {
  std::vector<int32_t> replicas;
  std::vector<int32_t> isr;
  int32_t leader = -1;
  int32_t leader_epoch = 0;
  int32_t partition_epoch = 0;
  bool operator==(const LeaderAndIsr&) const = default;
};

}  // namespace runnel::replication
