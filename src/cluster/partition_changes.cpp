#include "cluster/partition_changes.h"

#include <algorithm>

namespace runnel::cluster {
namespace {

bool contains(const std::vector<int32_t>& list, int32_t id) {
  return std::find(list.begin(), list.end(), id) != list.end();
}

// The state with the bookkeeping of a change: partition epoch always, leader
// epoch when the leader moved.
std::optional<PartitionState> changed(const PartitionState& before, PartitionState after) {
  if (after == before) return std::nullopt;
  if (after.leader != before.leader || after.leader_broker_epoch != before.leader_broker_epoch)
    after.leader_epoch = before.leader_epoch + 1;
  after.partition_epoch = before.partition_epoch + 1;
  return after;
}

// First replica (preferred order) that is in `isr` and eligible, or -1.
int32_t first_eligible_in(const std::vector<int32_t>& replicas, const std::vector<int32_t>& isr,
                          const BrokerLiveness& brokers, int32_t excluding = -1) {
  for (int32_t r : replicas)
    if (r != excluding && contains(isr, r) && brokers.eligible(r)) return r;
  return -1;
}

}  // namespace

std::vector<int32_t> target_replicas(const PartitionState& state) {
  std::vector<int32_t> target;
  for (int32_t r : state.replicas)
    if (!contains(state.removing_replicas, r)) target.push_back(r);
  return target;
}

std::optional<PartitionState> reconcile_partition(const PartitionState& state, const BrokerLiveness& brokers,
                                                  bool unclean_allowed) {
  PartitionState next = state;
  // Dead members leave the ISR, unless none would be left.
  std::vector<int32_t> live_isr;
  for (int32_t r : state.isr)
    if (brokers.alive(r)) live_isr.push_back(r);
  if (!live_isr.empty()) next.isr = live_isr;

  // A leader that restarted since its election (new broker epoch) needs a new election too.
  const bool leader_ok = next.leader >= 0 && brokers.eligible(next.leader) && contains(next.isr, next.leader) &&
                         brokers.epoch(next.leader) == state.leader_broker_epoch;
  if (!leader_ok) {
    int32_t leader = first_eligible_in(next.replicas, next.isr, brokers);
    if (leader < 0 && next.leader >= 0 && brokers.alive(next.leader) && contains(next.isr, next.leader)) {
      leader = next.leader;  // shutting down, but nobody else can take over: it keeps leading
    }
    if (leader < 0 && unclean_allowed) {
      for (int32_t r : next.replicas) {
        if (brokers.eligible(r)) {
          leader = r;
          next.isr = {r};
          break;
        }
      }
    }
    next.leader = leader;
  }
  next.leader_broker_epoch = next.leader >= 0 ? brokers.epoch(next.leader) : 0;
  // Followers in controlled shutdown leave the ISR (never the leader, never the last member).
  if (next.leader >= 0) {
    std::vector<int32_t> isr;
    for (int32_t r : next.isr)
      if (r == next.leader || !brokers.shutting_down(r)) isr.push_back(r);
    next.isr = isr;
  }
  return changed(state, std::move(next));
}

std::optional<PartitionState> elect_preferred_leader(const PartitionState& state, const BrokerLiveness& brokers,
                                                     ErrorCode* error) {
  auto fail = [&](ErrorCode e) -> std::optional<PartitionState> {
    if (error) *error = e;
    return std::nullopt;
  };
  const auto target = target_replicas(state);
  if (target.empty()) return fail(ErrorCode::kPreferredLeaderNotAvailable);
  const int32_t preferred = target.front();
  if (state.leader == preferred) return fail(ErrorCode::kElectionNotNeeded);
  if (!brokers.eligible(preferred) || !contains(state.isr, preferred)) return fail(ErrorCode::kPreferredLeaderNotAvailable);
  PartitionState next = state;
  next.leader = preferred;
  next.leader_broker_epoch = brokers.epoch(preferred);
  if (error) *error = ErrorCode::kNone;
  return changed(state, std::move(next));
}

std::optional<PartitionState> elect_unclean_leader(const PartitionState& state, const BrokerLiveness& brokers,
                                                   ErrorCode* error) {
  auto fail = [&](ErrorCode e) -> std::optional<PartitionState> {
    if (error) *error = e;
    return std::nullopt;
  };
  if (state.leader >= 0 && brokers.eligible(state.leader)) return fail(ErrorCode::kElectionNotNeeded);
  PartitionState next = state;
  next.leader = first_eligible_in(state.replicas, state.isr, brokers);
  if (next.leader < 0) {
    for (int32_t r : target_replicas(state)) {
      if (brokers.eligible(r)) {
        next.leader = r;
        next.isr = {r};
        break;
      }
    }
  }
  if (next.leader < 0) return fail(ErrorCode::kEligibleLeadersNotAvailable);
  next.leader_broker_epoch = brokers.epoch(next.leader);
  if (error) *error = ErrorCode::kNone;
  return changed(state, std::move(next));
}

IsrChangeResult change_isr(const PartitionState& state, const IsrChangeRequest& request, const BrokerLiveness& brokers,
                           int64_t current_broker_epoch) {
  IsrChangeResult result;
  auto fail = [&](ErrorCode e) {
    result.error = e;
    return result;
  };
  if (request.broker_epoch >= 0 && request.broker_epoch != current_broker_epoch) return fail(ErrorCode::kStaleBrokerEpoch);
  if (request.broker_id != state.leader) return fail(ErrorCode::kNotLeaderOrFollower);
  if (request.leader_epoch != state.leader_epoch) return fail(ErrorCode::kFencedLeaderEpoch);
  if (request.partition_epoch != state.partition_epoch) return fail(ErrorCode::kInvalidUpdateVersion);
  if (request.new_isr.empty() || !contains(request.new_isr, state.leader)) return fail(ErrorCode::kInvalidRequest);
  for (int32_t r : request.new_isr) {
    if (!contains(state.replicas, r)) return fail(ErrorCode::kInvalidRequest);
    // Joining the ISR needs a live broker that is not on its way out.
    if (!contains(state.isr, r) && !brokers.eligible(r)) return fail(ErrorCode::kIneligibleReplica);
  }
  PartitionState next = state;
  next.isr = request.new_isr;
  std::sort(next.isr.begin(), next.isr.end());
  next.isr.erase(std::unique(next.isr.begin(), next.isr.end()), next.isr.end());
  if (auto completed = complete_reassignment(next, brokers)) {
    // complete_reassignment bumped the epochs relative to `next`; rebase on `state`.
    completed->partition_epoch = state.partition_epoch;
    completed->leader_epoch = state.leader_epoch;
    result.state = changed(state, std::move(*completed));
    if (result.state && result.state->leader == state.leader) result.state->leader_epoch = state.leader_epoch;
    return result;
  }
  result.state = changed(state, std::move(next));
  return result;
}

std::optional<PartitionState> start_reassignment(const PartitionState& state, const std::vector<int32_t>& target,
                                                 const BrokerLiveness& brokers, ErrorCode* error) {
  if (error) *error = ErrorCode::kNone;
  auto fail = [&](ErrorCode e) -> std::optional<PartitionState> {
    if (error) *error = e;
    return std::nullopt;
  };
  const bool moving = !state.adding_replicas.empty() || !state.removing_replicas.empty();
  // The replicas before any move in progress began (KIP-455's "original").
  std::vector<int32_t> original;
  for (int32_t r : state.replicas)
    if (!contains(state.adding_replicas, r)) original.push_back(r);
  std::vector<int32_t> goal = target;
  if (target.empty()) {
    // Cancel: back to the original replicas.
    if (!moving) return fail(ErrorCode::kNoReassignmentInProgress);
    goal = original;
  } else {
    std::vector<int32_t> seen;
    for (int32_t r : target) {
      if (contains(seen, r) || r < 0) return fail(ErrorCode::kInvalidReplicaAssignment);
      seen.push_back(r);
      if (!brokers.alive(r) && !contains(state.replicas, r)) return fail(ErrorCode::kInvalidReplicaAssignment);
    }
  }
  // Replicas during the move: the goal first (its order decides the preferred
  // leader afterwards), then every current replica outside it that still holds
  // data worth keeping until the goal is in sync: the original ones, and any in
  // the ISR (a replica added by an earlier, unfinished move may lead by now).
  // So a new move, or a cancel, during a move never drops the leader or the ISR.
  PartitionState next = state;
  next.replicas = goal;
  next.adding_replicas.clear();
  next.removing_replicas.clear();
  for (int32_t r : goal)
    if (!contains(original, r)) next.adding_replicas.push_back(r);
  for (int32_t r : state.replicas) {
    if (contains(goal, r)) continue;
    if (contains(original, r) || contains(state.isr, r)) {
      next.replicas.push_back(r);
      next.removing_replicas.push_back(r);
    }
  }
  // Every ISR member is still a replica, so the ISR and the leader stay as they are.
  next.isr.erase(std::remove_if(next.isr.begin(), next.isr.end(), [&](int32_t r) { return !contains(next.replicas, r); }),
                 next.isr.end());
  if (auto done = complete_reassignment(next, brokers)) {
    done->partition_epoch = state.partition_epoch;
    done->leader_epoch = state.leader_epoch;
    auto result = changed(state, *done);
    if (result && result->leader == state.leader) result->leader_epoch = state.leader_epoch;
    return result;
  }
  return changed(state, std::move(next));
}

std::optional<PartitionState> complete_reassignment(const PartitionState& state, const BrokerLiveness& brokers) {
  if (state.adding_replicas.empty() && state.removing_replicas.empty()) return std::nullopt;
  for (int32_t r : state.adding_replicas)
    if (!contains(state.isr, r)) return std::nullopt;  // still catching up
  PartitionState next = state;
  next.replicas = target_replicas(state);
  next.adding_replicas.clear();
  next.removing_replicas.clear();
  std::vector<int32_t> isr;
  for (int32_t r : state.isr)
    if (contains(next.replicas, r)) isr.push_back(r);
  if (isr.empty()) return std::nullopt;  // nobody of the new set is in sync: keep going
  next.isr = isr;
  if (!contains(next.replicas, next.leader)) {
    next.leader = first_eligible_in(next.replicas, next.isr, brokers);
    if (next.leader < 0) return std::nullopt;
    next.leader_broker_epoch = brokers.epoch(next.leader);
  }
  return changed(state, std::move(next));
}

}  // namespace runnel::cluster
