#pragma once
// The controller's rules for changing one partition's state, as pure functions of
// the state and of which brokers can serve, so they are unit-tested without a
// store. Each returns the new state, or nullopt when nothing changes; a changed
// state has partition_epoch + 1 and, when the leader changed, leader_epoch + 1.
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "cluster/metadata_records.h"
#include "common/error_code.h"

namespace runnel::cluster {

struct BrokerLiveness {
  std::function<bool(int32_t)> alive;          // registered (its session holds)
  std::function<bool(int32_t)> shutting_down;  // in controlled shutdown
  std::function<int64_t(int32_t)> epoch;       // its registration's broker epoch, 0 if not registered
  bool eligible(int32_t id) const { return alive(id) && !shutting_down(id); }
};

// After brokers came or went: dead replicas leave the ISR (but never its last
// member, which may come back and lead); a leader that is dead or shutting down
// is replaced by the first eligible ISR member in replica order (the preferred
// replica first); a leader that registered again since its election (it
// restarted) is elected anew, at a new leader epoch, even if it stays leader; an offline partition gets a leader as soon as an ISR member is
// eligible; with unclean election allowed, any eligible replica when no ISR
// member is. A broker in controlled shutdown also leaves the ISR of partitions it
// follows, so acks=all stops waiting for it.
std::optional<PartitionState> reconcile_partition(const PartitionState& state, const BrokerLiveness& brokers,
                                                  bool unclean_allowed);

// Preferred leader election: the first replica leads again if it is eligible and
// in the ISR. `error` says why not (ELECTION_NOT_NEEDED, PREFERRED_LEADER_NOT_AVAILABLE).
std::optional<PartitionState> elect_preferred_leader(const PartitionState& state, const BrokerLiveness& brokers,
                                                     ErrorCode* error = nullptr);

// Unclean election on request (ElectLeaders with type 1): an ISR member if one is
// eligible, else any eligible replica.
std::optional<PartitionState> elect_unclean_leader(const PartitionState& state, const BrokerLiveness& brokers,
                                                   ErrorCode* error = nullptr);

struct IsrChangeRequest {
  int32_t broker_id = -1;
  int64_t broker_epoch = -1;  // -1: unchecked
  int32_t leader_epoch = -1;
  int32_t partition_epoch = -1;
  std::vector<int32_t> new_isr;
};

// An AlterPartition from the leader, checked as Kafka's controller does: only the
// current leader at the current leader and partition epochs may change the ISR,
// the ISR must keep the leader and stay within the replicas, and only eligible
// brokers may join it. On success the new state; a reassignment whose new
// replicas are all in sync completes in the same change.
struct IsrChangeResult {
  ErrorCode error = ErrorCode::kNone;
  std::optional<PartitionState> state;  // set when error == kNone and something changed
};
IsrChangeResult change_isr(const PartitionState& state, const IsrChangeRequest& request, const BrokerLiveness& brokers,
                           int64_t current_broker_epoch);

// Starts a reassignment to `target` (KIP-455): replicas become old + new, the new
// ones are added (followers catch up through replication), and
// complete_reassignment finishes it once they are all in the ISR. An empty
// target cancels a reassignment in progress (back to the original replicas).
std::optional<PartitionState> start_reassignment(const PartitionState& state, const std::vector<int32_t>& target,
                                                 const BrokerLiveness& brokers, ErrorCode* error);
std::optional<PartitionState> complete_reassignment(const PartitionState& state, const BrokerLiveness& brokers);
// The replicas a reassignment ends with (the current ones when none is running).
std::vector<int32_t> target_replicas(const PartitionState& state);

}  // namespace runnel::cluster
