// SyncGroup, Heartbeat and LeaveGroup: the requests of members that have joined.
#include <spdlog/spdlog.h>

#include "coordinator/group_coordinator.h"

namespace runnel::coordinator {
namespace {

SyncResult sync_error(ErrorCode error) { return SyncResult{error, std::nullopt, std::nullopt, {}}; }

}  // namespace

// ---------------------------------------------------------------- SyncGroup

void GroupCoordinator::sync_group(SyncGroupParams params, SyncCallback done) {
  if (params.group_id.empty()) return done(sync_error(ErrorCode::kInvalidGroupId));
  if (auto error = partition_error(params.group_id)) {
    // As Kafka: a loading coordinator has lost any rebalance in progress, and
    // REBALANCE_IN_PROGRESS makes the member rejoin (clients treat an unexpected
    // COORDINATOR_LOAD_IN_PROGRESS in a SyncGroup response as fatal).
    return done(sync_error(*error == ErrorCode::kCoordinatorLoadInProgress ? ErrorCode::kRebalanceInProgress : *error));
  }
  GroupPtr group = find(params.group_id);
  if (!group) return done(sync_error(ErrorCode::kUnknownMemberId));
  if (group->is(GroupState::kDead)) return done(sync_error(ErrorCode::kCoordinatorNotAvailable));
  if (auto error = validate_current_member(*group, params.member_id, params.group_instance_id)) {
    return done(sync_error(*error));
  }
  if (params.generation_id != group->generation()) return done(sync_error(ErrorCode::kIllegalGeneration));
  if ((params.protocol_type && group->protocol_type() != params.protocol_type) ||
      (params.protocol_name && group->protocol_name() != params.protocol_name)) {
    return done(sync_error(ErrorCode::kInconsistentGroupProtocol));
  }
  switch (group->state()) {
    case GroupState::kEmpty:
      return done(sync_error(ErrorCode::kUnknownMemberId));
    case GroupState::kPreparingRebalance:
      return done(sync_error(ErrorCode::kRebalanceInProgress));
    case GroupState::kStable: {
      remove_pending_sync_member(group, params.member_id);
      Member& member = *group->get(params.member_id);
      done(SyncResult{ErrorCode::kNone, group->protocol_type(), group->protocol_name(), member.assignment});
      return schedule_session_timeout(group, member, member.session_timeout_ms);
    }
    case GroupState::kDead:
      return done(sync_error(ErrorCode::kCoordinatorNotAvailable));
    case GroupState::kCompletingRebalance:
      break;
  }
  Member& member = *group->get(params.member_id);
  group->set_sync_callback(member, std::move(done));
  remove_pending_sync_member(group, params.member_id);
  if (!group->is_leader(params.member_id)) return;  // followers wait for the leader's assignment

  // The leader's assignment, with an empty one for members it left out. Every
  // member is answered once it is durable, and the group becomes Stable.
  std::map<std::string, Bytes> assignment;
  for (const auto& id : group->member_ids()) {
    auto it = params.assignments.find(id);
    assignment[id] = it == params.assignments.end() ? Bytes{} : std::move(it->second);
  }
  spdlog::info("group {}: assignment received from leader {} for generation {} ({} members)", group->id(),
               params.member_id, group->generation(), group->size());
  const int32_t generation = group->generation();
  store_group(group, assignment, [this, group, generation, assignment](ErrorCode error) {
    // The group may have moved on (a member joined or left) while this was written.
    if (!group->is(GroupState::kCompletingRebalance) || group->generation() != generation) return;
    if (error != ErrorCode::kNone) {
      reset_and_propagate_assignment_error(group, error);
      return maybe_prepare_rebalance(group, "cannot store the group assignment");
    }
    for (const auto& [id, bytes] : assignment) {
      if (Member* m = group->get(id)) m->assignment = bytes;
    }
    propagate_assignment(group, ErrorCode::kNone);
    group->transition_to(GroupState::kStable, timers_.wall_clock_ms());
  });
}

// ---------------------------------------------------------------- Heartbeat, LeaveGroup

ErrorCode GroupCoordinator::heartbeat(const std::string& group_id, const std::string& member_id,
                                      const std::optional<std::string>& group_instance_id, int32_t generation_id) {
  if (group_id.empty()) return ErrorCode::kInvalidGroupId;
  if (auto error = partition_error(group_id)) {
    // As Kafka: while loading, answer blindly (clients treat COORDINATOR_LOAD_IN_PROGRESS
    // in a Heartbeat response as fatal); the loaded session timers take over after.
    return *error == ErrorCode::kCoordinatorLoadInProgress ? ErrorCode::kNone : *error;
  }
  GroupPtr group = find(group_id);
  if (!group) return ErrorCode::kUnknownMemberId;
  if (group->is(GroupState::kDead)) return ErrorCode::kCoordinatorNotAvailable;
  if (auto error = validate_current_member(*group, member_id, group_instance_id)) return *error;
  if (generation_id != group->generation()) return ErrorCode::kIllegalGeneration;
  if (group->is(GroupState::kEmpty)) return ErrorCode::kUnknownMemberId;
  Member& member = *group->get(member_id);
  schedule_session_timeout(group, member, member.session_timeout_ms);
  return group->is(GroupState::kPreparingRebalance) ? ErrorCode::kRebalanceInProgress : ErrorCode::kNone;
}

LeaveGroupResult GroupCoordinator::leave_group(const std::string& group_id, const std::vector<LeavingMember>& members) {
  LeaveGroupResult result;
  if (group_id.empty()) {
    result.error = ErrorCode::kInvalidGroupId;
    return result;
  }
  if (auto error = partition_error(group_id)) {
    result.error = *error;
    return result;
  }
  GroupPtr group = find(group_id);
  if (!group) {
    result.members.assign(members.size(), ErrorCode::kUnknownMemberId);
    return result;
  }
  if (group->is(GroupState::kDead)) {
    result.error = ErrorCode::kCoordinatorNotAvailable;
    return result;
  }
  for (const auto& leaving : members) {
    const std::string reason = "member left (" + leaving.reason.value_or("no reason given") + ")";
    if (leaving.member_id.empty()) {
      // Admin removal of a static member by its instance id alone.
      auto current = leaving.group_instance_id ? group->static_member_id(*leaving.group_instance_id) : std::nullopt;
      if (!current) {
        result.members.push_back(ErrorCode::kUnknownMemberId);
        continue;
      }
      remove_member_and_update_group(group, *current, reason);
      result.members.push_back(ErrorCode::kNone);
    } else if (group->is_pending_member(leaving.member_id)) {
      remove_pending_member_and_update_group(group, leaving.member_id);
      result.members.push_back(ErrorCode::kNone);
    } else if (auto error = validate_current_member(*group, leaving.member_id, leaving.group_instance_id)) {
      result.members.push_back(*error);
    } else {
      spdlog::info("group {}: member {} left ({})", group_id, leaving.member_id,
                   leaving.reason.value_or("no reason given"));
      remove_member_and_update_group(group, leaving.member_id, reason);
      result.members.push_back(ErrorCode::kNone);
    }
  }
  return result;
}

}  // namespace runnel::coordinator
