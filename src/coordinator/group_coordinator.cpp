// Membership: JoinGroup and the timers that move a rebalance along (Kafka's
// DelayedJoin, InitialDelayedJoin, DelayedSync and DelayedHeartbeat, here
// one-shot timers on the event loop), member sessions and removal.
#include "coordinator/group_coordinator.h"

#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/uuid.h"
#include "coordinator/group_partitioner.h"

namespace runnel::coordinator {
namespace {

// Java's UUID.toString(): 8-4-4-4-12 lowercase hex, as Kafka's member ids carry.
std::string uuid_string() {
  const Uuid id = Uuid::random();
  std::string out;
  out.reserve(36);
  static constexpr char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < id.bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[id.bytes[i] >> 4]);
    out.push_back(kHex[id.bytes[i] & 0x0f]);
  }
  return out;
}

SyncResult sync_error(ErrorCode error) { return SyncResult{error, std::nullopt, std::nullopt, {}}; }

}  // namespace

GroupCoordinator::GroupCoordinator(GroupCoordinatorConfig config, TimerService& timers, GroupStore& store)
    : config_(config), timers_(timers), store_(store), loading_(std::make_unique<Loading>()) {}

GroupCoordinator::~GroupCoordinator() { shutdown(); }

void GroupCoordinator::shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  timers_.cancel_all();
}

int32_t GroupCoordinator::partition_for(const std::string& group_id) const {
  return partition_for_group(group_id, std::max(store_.partition_count(), 1));
}

GroupCoordinator::GroupPtr GroupCoordinator::find(const std::string& group_id) const {
  auto it = groups_.find(group_id);
  return it == groups_.end() ? nullptr : it->second;
}

GroupCoordinator::GroupPtr GroupCoordinator::get_or_create(const std::string& group_id) {
  auto& slot = groups_[group_id];
  if (!slot) slot = std::make_shared<Group>(group_id, GroupState::kEmpty, timers_.wall_clock_ms());
  return slot;
}

const Group* GroupCoordinator::group(const std::string& group_id) const { return find(group_id).get(); }

std::string GroupCoordinator::generate_member_id(const std::string& client_id,
                                                 const std::optional<std::string>& instance_id) {
  return (instance_id ? *instance_id : client_id) + "-" + uuid_string();
}

// ---------------------------------------------------------------- JoinGroup

void GroupCoordinator::join_group(JoinGroupParams params, JoinCallback done) {
  if (params.group_id.empty()) return done(JoinResult::failure(params.member_id, ErrorCode::kInvalidGroupId));
  if (auto error = partition_error(params.group_id)) return done(JoinResult::failure(params.member_id, *error));
  if (params.session_timeout_ms < config_.min_session_timeout_ms ||
      params.session_timeout_ms > config_.max_session_timeout_ms) {
    return done(JoinResult::failure(params.member_id, ErrorCode::kInvalidSessionTimeout));
  }
  const bool unknown_member = params.member_id.empty();
  GroupPtr group = find(params.group_id);
  if (!group) {
    // A known member id for a group we do not have: the member must start over.
    if (!unknown_member) return done(JoinResult::failure(params.member_id, ErrorCode::kUnknownMemberId));
    group = get_or_create(params.group_id);
  }
  if (!accept_joining_member(*group, params.member_id)) {
    // Kafka drops the member without a rebalance; removing it through the usual
    // path also answers its pending requests and rebalances the others.
    if (group->has(params.member_id)) {
      remove_member_and_update_group(group, params.member_id, "group.max.size reached");
    }
    done(JoinResult::failure("", ErrorCode::kGroupMaxSizeReached));
  } else if (unknown_member) {
    do_new_member_join(group, params, done);
  } else {
    do_current_member_join(group, params, done);
  }
  if (group->is(GroupState::kPreparingRebalance)) check_join_complete(group);
}

bool GroupCoordinator::accept_joining_member(const Group& group, const std::string& member_id) const {
  const auto max = static_cast<size_t>(config_.max_group_size);
  switch (group.state()) {
    case GroupState::kEmpty:
    case GroupState::kDead:
      return true;
    case GroupState::kPreparingRebalance: {
      // Counting awaiting members lets the last ones to rejoin be the ones turned away.
      const Member* member = group.get(member_id);
      return (member && member->is_awaiting_join()) || group.awaiting_join_count() < max;
    }
    case GroupState::kCompletingRebalance:
    case GroupState::kStable:
      return group.has(member_id) || group.size() < max;
  }
  return false;
}

void GroupCoordinator::do_new_member_join(const GroupPtr& group, JoinGroupParams& params, JoinCallback& done) {
  if (group->is(GroupState::kDead)) return done(JoinResult::failure("", ErrorCode::kCoordinatorNotAvailable));
  if (!group->supports_protocols(params.protocol_type, params.protocols)) {
    return done(JoinResult::failure("", ErrorCode::kInconsistentGroupProtocol));
  }
  const std::string new_id = generate_member_id(params.client_id, params.group_instance_id);
  if (params.group_instance_id) {
    if (auto old_id = group->static_member_id(*params.group_instance_id)) {
      spdlog::info("group {}: static member {} rejoins with a new member id {} (was {})", group->id(),
                   *params.group_instance_id, new_id, *old_id);
      return update_static_member_and_rebalance(group, *old_id, new_id, params, done);
    }
    return add_member_and_rebalance(group, new_id, params, std::move(done));
  }
  if (params.require_known_member_id) {
    // KIP-394: hand out the id and wait (up to the session timeout) for the member
    // to rejoin with it, so a client that retries blindly adds no ghost members.
    std::weak_ptr<Group> weak = group;
    const TimerId timer = timers_.schedule(params.session_timeout_ms,
                                           [this, weak, new_id] { on_pending_member_timeout(weak, new_id); });
    group->add_pending_member(new_id, timer);
    return done(JoinResult::failure(new_id, ErrorCode::kMemberIdRequired));
  }
  add_member_and_rebalance(group, new_id, params, std::move(done));
}

void GroupCoordinator::do_current_member_join(const GroupPtr& group, JoinGroupParams& params, JoinCallback& done) {
  const std::string& member_id = params.member_id;
  if (group->is(GroupState::kDead)) return done(JoinResult::failure(member_id, ErrorCode::kCoordinatorNotAvailable));
  if (!group->supports_protocols(params.protocol_type, params.protocols)) {
    return done(JoinResult::failure(member_id, ErrorCode::kInconsistentGroupProtocol));
  }
  if (group->is_pending_member(member_id)) {
    // Pending ids are only given to dynamic members; Kafka treats this as a bug.
    if (params.group_instance_id) return done(JoinResult::failure(member_id, ErrorCode::kUnknownMemberId));
    timers_.cancel(group->remove_pending_member(member_id));
    return add_member_and_rebalance(group, member_id, params, std::move(done));
  }
  if (auto error = validate_current_member(*group, member_id, params.group_instance_id)) {
    return done(JoinResult::failure(member_id, *error));
  }
  Member& member = *group->get(member_id);
  switch (group->state()) {
    case GroupState::kPreparingRebalance:
      return update_member_and_rebalance(group, member, params, std::move(done), "member joining during rebalance");
    case GroupState::kCompletingRebalance:
      // Same metadata: the member just missed the JoinGroup response; resend it.
      if (member.matches(params.protocols)) {
        return done(join_result_for(*group, member_id, group->is_leader(member_id)));
      }
      return update_member_and_rebalance(group, member, params, std::move(done), "member metadata changed");
    case GroupState::kStable:
      // A leader's JoinGroup forces a rebalance (it may have seen metadata change);
      // a follower with unchanged metadata just gets the current generation back.
      if (group->is_leader(member_id)) {
        return update_member_and_rebalance(group, member, params, std::move(done), "leader rejoining");
      }
      if (!member.matches(params.protocols)) {
        return update_member_and_rebalance(group, member, params, std::move(done), "member metadata changed");
      }
      return done(join_result_for(*group, member_id, false));
    case GroupState::kEmpty:
    case GroupState::kDead:
      return done(JoinResult::failure(member_id, ErrorCode::kUnknownMemberId));
  }
}

void GroupCoordinator::update_static_member_and_rebalance(const GroupPtr& group, const std::string& old_id,
                                                          const std::string& new_id, JoinGroupParams& params,
                                                          JoinCallback& done) {
  const std::string instance_id = *params.group_instance_id;
  const std::string current_leader = group->leader_id().value_or("");
  Member& member = group->replace_static_member(instance_id, old_id, new_id);
  // The old id's session timer now has no member to expire; restart it for the new id.
  schedule_session_timeout(group, member, member.session_timeout_ms);
  const auto old_protocols = member.protocols;
  const int32_t old_rebalance_timeout = member.rebalance_timeout_ms;
  const int32_t old_session_timeout = member.session_timeout_ms;
  group->update_member(member, params.protocols, params.rebalance_timeout_ms, params.session_timeout_ms,
                       std::move(done));

  switch (group->state()) {
    case GroupState::kStable: {
      // KIP-345: unchanged protocol choice means no rebalance; persist the new
      // member id and hand back the current generation and assignment.
      if (group->protocol_name() != group->select_protocol()) {
        return maybe_prepare_rebalance(group, "static member " + instance_id + " rejoined with other protocols");
      }
      std::map<std::string, Bytes> assignment;
      for (const auto& [id, m] : group->members()) assignment[id] = m.assignment;
      const bool skip_assignment_supported = params.support_skipping_assignment;
      store_group(group, assignment,
                  [this, group, instance_id, old_id, new_id, current_leader, old_protocols, old_rebalance_timeout,
                   old_session_timeout, skip_assignment_supported](ErrorCode error) {
                    // Unloaded meanwhile (its JoinGroup was answered NOT_COORDINATOR then),
                    // or the member was removed (answered then too).
                    if (group->is(GroupState::kDead)) return;
                    Member* m = group->get(new_id);
                    if (!m) return;
                    if (error != ErrorCode::kNone) {
                      spdlog::warn("group {}: cannot persist static member {}: {} ({})", group->id(), instance_id,
                                   error_name(error), to_wire(error));
                      JoinResult failed = JoinResult::failure("", error);
                      failed.generation_id = group->generation();
                      failed.protocol_type = group->protocol_type();
                      failed.protocol_name = group->protocol_name();
                      failed.leader = current_leader;
                      group->invoke_join_callback(*m, std::move(failed));
                      group->update_member(*m, old_protocols, old_rebalance_timeout, old_session_timeout, nullptr);
                      Member& restored = group->replace_static_member(instance_id, new_id, old_id);
                      schedule_session_timeout(group, restored, restored.session_timeout_ms);
                      return;
                    }
                    const bool leader = group->is_leader(new_id);
                    JoinResult result = join_result_for(*group, new_id, skip_assignment_supported && leader);
                    if (skip_assignment_supported) {
                      // v9+: the leader learns it leads, but must not run the assignor.
                      result.skip_assignment = leader;
                    } else {
                      // Older clients: name the previous leader id, so that a restarted
                      // leader does not compute an assignment nobody would receive.
                      result.leader = current_leader;
                    }
                    group->invoke_join_callback(*m, std::move(result));
                  });
      return;
    }
    case GroupState::kCompletingRebalance:
      // The old id may already be in the leader's assignment: start over.
      return prepare_rebalance(group, "static member " + instance_id + " rejoined during CompletingRebalance");
    case GroupState::kPreparingRebalance:
      return;  // the pending JoinGroup completes with the rebalance
    case GroupState::kEmpty:
    case GroupState::kDead:
      group->invoke_join_callback(member, JoinResult::failure(new_id, ErrorCode::kCoordinatorNotAvailable));
      return;
  }
}

void GroupCoordinator::add_member_and_rebalance(const GroupPtr& group, const std::string& member_id,
                                                JoinGroupParams& params, JoinCallback done) {
  Member member;
  member.member_id = member_id;
  member.group_instance_id = params.group_instance_id;
  member.client_id = params.client_id;
  member.client_host = params.client_host;
  member.rebalance_timeout_ms = params.rebalance_timeout_ms;
  member.session_timeout_ms = params.session_timeout_ms;
  member.protocol_type = params.protocol_type;
  member.protocols = params.protocols;
  member.is_new = true;
  // Joins while a brand-new group waits out its initial delay extend the delay.
  if (group->is(GroupState::kPreparingRebalance) && group->generation() == 0) group->new_member_added = true;
  group->add(std::move(member), std::move(done));
  // A new member cannot heartbeat yet; it expires only if its join never completes.
  schedule_session_timeout(group, *group->get(member_id), config_.new_member_join_timeout_ms);
  maybe_prepare_rebalance(group, "adding member " + member_id);
}

void GroupCoordinator::update_member_and_rebalance(const GroupPtr& group, Member& member, JoinGroupParams& params,
                                                   JoinCallback done, const std::string& reason) {
  group->update_member(member, params.protocols, params.rebalance_timeout_ms, params.session_timeout_ms,
                       std::move(done));
  maybe_prepare_rebalance(group, reason + " (" + member.member_id + ")");
}

std::optional<ErrorCode> GroupCoordinator::validate_current_member(
    const Group& group, const std::string& member_id, const std::optional<std::string>& instance_id) const {
  if (instance_id) {
    const auto current = group.static_member_id(*instance_id);
    if (!current) return ErrorCode::kUnknownMemberId;
    if (*current != member_id) {
      spdlog::info("group {}: member {} of instance {} is fenced by {}", group.id(), member_id, *instance_id,
                   *current);
      return ErrorCode::kFencedInstanceId;
    }
  }
  if (!group.has(member_id)) return ErrorCode::kUnknownMemberId;
  return std::nullopt;
}

JoinResult GroupCoordinator::join_result_for(const Group& group, const std::string& member_id,
                                             bool include_members) const {
  JoinResult result;
  result.member_id = member_id;
  result.generation_id = group.generation();
  result.protocol_type = group.protocol_type();
  result.protocol_name = group.protocol_name();
  result.leader = group.leader_id().value_or("");
  if (include_members) result.members = group.current_member_metadata();
  return result;
}

// ---------------------------------------------------------------- rebalance

void GroupCoordinator::maybe_prepare_rebalance(const GroupPtr& group, const std::string& reason) {
  if (group->can_rebalance()) prepare_rebalance(group, reason);
}

void GroupCoordinator::prepare_rebalance(const GroupPtr& group, const std::string& reason) {
  // Members waiting in SyncGroup must rejoin instead.
  if (group->is(GroupState::kCompletingRebalance)) {
    reset_and_propagate_assignment_error(group, ErrorCode::kRebalanceInProgress);
  }
  timers_.cancel(group->sync_timer);
  group->sync_timer = 0;
  const bool from_empty = group->is(GroupState::kEmpty);
  const int32_t rebalance_timeout = group->rebalance_timeout_ms();
  group->transition_to(GroupState::kPreparingRebalance, timers_.wall_clock_ms());
  spdlog::info("group {}: preparing to rebalance, old generation {} ({}-{}) (reason: {})", group->id(),
               group->generation(), kOffsetsTopic, partition_for(group->id()), reason);
  if (from_empty) {
    // group.initial.rebalance.delay.ms: let more members arrive before the first
    // generation; extended while they keep coming, up to the rebalance timeout.
    const int32_t delay = config_.initial_rebalance_delay_ms;
    schedule_join(group, true, delay, std::max(rebalance_timeout - delay, 0));
  } else {
    schedule_join(group, false, rebalance_timeout, 0);
    check_join_complete(group);
  }
}

void GroupCoordinator::schedule_join(const GroupPtr& group, bool initial, int32_t delay_ms, int32_t remaining_ms) {
  timers_.cancel(group->join_wait.timer);
  std::weak_ptr<Group> weak = group;
  group->join_wait.initial = initial;
  group->join_wait.delay_ms = delay_ms;
  group->join_wait.remaining_ms = remaining_ms;
  group->join_wait.timer = timers_.schedule(delay_ms, [this, weak] { on_join_timer(weak); });
}

void GroupCoordinator::on_join_timer(const std::weak_ptr<Group>& weak) {
  auto group = weak.lock();
  if (!group) return;
  JoinWait& wait = group->join_wait;
  wait.timer = 0;
  if (wait.initial && group->new_member_added && wait.remaining_ms != 0) {
    group->new_member_added = false;
    const int32_t delay = std::min(config_.initial_rebalance_delay_ms, wait.remaining_ms);
    const int32_t remaining = std::max(wait.remaining_ms - wait.delay_ms, 0);
    return schedule_join(group, true, delay, remaining);
  }
  complete_join(group);
}

void GroupCoordinator::check_join_complete(const GroupPtr& group) {
  const JoinWait& wait = group->join_wait;
  if (!group->is(GroupState::kPreparingRebalance) || wait.timer == 0 || wait.initial) return;
  if (group->has_all_members_joined()) complete_join(group);
}

void GroupCoordinator::complete_join(const GroupPtr& group) {
  timers_.cancel(group->join_wait.timer);
  group->join_wait = JoinWait{};
  // Dynamic members that did not rejoin in time are out; static members stay
  // (they may come back under their instance id).
  for (const auto& id : group->not_yet_rejoined_members()) {
    Member* member = group->get(id);
    if (member->is_static()) continue;
    spdlog::info("group {}: removing member {} which did not rejoin in time", group->id(), id);
    timers_.cancel(member->session_timer);
    group->invoke_sync_callback(*member, sync_error(ErrorCode::kUnknownMemberId));
    group->remove(id);
  }
  if (group->is(GroupState::kDead)) return;
  if (!group->maybe_elect_new_joined_leader() && group->size() > 0) {
    // Only static members that have not rejoined remain: wait another round for
    // them to rejoin or for their sessions to expire.
    spdlog::error("group {}: could not complete rebalance because no members rejoined", group->id());
    return schedule_join(group, false, group->rebalance_timeout_ms(), 0);
  }
  group->init_next_generation(timers_.wall_clock_ms());
  if (group->is(GroupState::kEmpty)) {
    spdlog::info("group {}: generation {} is empty ({}-{})", group->id(), group->generation(), kOffsetsTopic,
                 partition_for(group->id()));
    const std::string id = group->id();
    store_group(group, {}, [id](ErrorCode error) {
      // Safe to lose: an empty generation has no members to mislead.
      if (error != ErrorCode::kNone) {
        spdlog::warn("group {}: cannot write empty metadata: {} ({})", id, error_name(error), to_wire(error));
      }
    });
    return;
  }
  spdlog::info("group {}: stabilized generation {} with {} members, protocol {}", group->id(), group->generation(),
               group->size(), group->protocol_name().value_or(""));
  for (const auto& id : group->member_ids()) {
    Member& member = *group->get(id);
    group->invoke_join_callback(member, join_result_for(*group, id, group->is_leader(id)));
    schedule_session_timeout(group, member, member.session_timeout_ms);
    member.is_new = false;
    group->pending_sync_members().insert(id);
  }
  schedule_pending_sync(group);
}

void GroupCoordinator::schedule_pending_sync(const GroupPtr& group) {
  timers_.cancel(group->sync_timer);
  std::weak_ptr<Group> weak = group;
  const int32_t generation = group->generation();
  group->sync_timer = timers_.schedule(group->rebalance_timeout_ms(),
                                       [this, weak, generation] { on_pending_sync_expired(weak, generation); });
}

void GroupCoordinator::on_pending_sync_expired(const std::weak_ptr<Group>& weak, int32_t generation) {
  auto group = weak.lock();
  if (!group) return;
  group->sync_timer = 0;
  if (generation != group->generation()) return;
  if (!group->is(GroupState::kCompletingRebalance) && !group->is(GroupState::kStable)) return;
  const std::vector<std::string> missing(group->pending_sync_members().begin(), group->pending_sync_members().end());
  if (missing.empty()) return;
  spdlog::info("group {}: removing {} members which did not send SyncGroup in time", group->id(), missing.size());
  for (const auto& id : missing) {
    if (Member* member = group->get(id)) {
      timers_.cancel(member->session_timer);
      group->invoke_join_callback(*member, JoinResult::failure("", ErrorCode::kUnknownMemberId));
      group->invoke_sync_callback(*member, sync_error(ErrorCode::kUnknownMemberId));
    }
    group->remove(id);
  }
  maybe_prepare_rebalance(group, "members did not send SyncGroup in time");
}

void GroupCoordinator::remove_pending_sync_member(const GroupPtr& group, const std::string& member_id) {
  group->pending_sync_members().erase(member_id);
  if (group->pending_sync_members().empty()) {
    timers_.cancel(group->sync_timer);
    group->sync_timer = 0;
  }
}

void GroupCoordinator::reset_and_propagate_assignment_error(const GroupPtr& group, ErrorCode error) {
  for (const auto& id : group->member_ids()) group->get(id)->assignment.clear();
  propagate_assignment(group, error);
}

void GroupCoordinator::propagate_assignment(const GroupPtr& group, ErrorCode error) {
  const bool ok = error == ErrorCode::kNone;
  for (const auto& id : group->member_ids()) {
    Member& member = *group->get(id);
    SyncResult result{error, ok ? group->protocol_type() : std::nullopt, ok ? group->protocol_name() : std::nullopt,
                      member.assignment};
    // Its session may have passed unnoticed while it waited: start it afresh.
    if (group->invoke_sync_callback(member, std::move(result))) {
      schedule_session_timeout(group, member, member.session_timeout_ms);
    }
  }
}

// ---------------------------------------------------------------- sessions

void GroupCoordinator::schedule_session_timeout(const GroupPtr& group, Member& member, int32_t timeout_ms) {
  timers_.cancel(member.session_timer);
  std::weak_ptr<Group> weak = group;
  std::string id = member.member_id;
  member.session_timer = timers_.schedule(timeout_ms, [this, weak, id] { on_session_timeout(weak, id); });
}

void GroupCoordinator::on_session_timeout(const std::weak_ptr<Group>& weak, const std::string& member_id) {
  auto group = weak.lock();
  if (!group || group->is(GroupState::kDead)) return;
  Member* member = group->get(member_id);
  if (!member) return;
  member->session_timer = 0;
  // Members waiting in a rebalance are alive by definition (their timer restarts
  // when the rebalance answers them); new members only have their join timeout.
  if (!member->is_new && (member->is_awaiting_join() || member->is_awaiting_sync())) return;
  spdlog::info("group {}: member {} has failed (session timeout), removing it", group->id(), member_id);
  remove_member_and_update_group(group, member_id, "session timeout of " + member_id);
}

void GroupCoordinator::on_pending_member_timeout(const std::weak_ptr<Group>& weak, const std::string& member_id) {
  auto group = weak.lock();
  if (!group || !group->is_pending_member(member_id)) return;
  spdlog::info("group {}: pending member {} did not rejoin within its session timeout", group->id(), member_id);
  remove_pending_member_and_update_group(group, member_id);
}

void GroupCoordinator::remove_member_and_update_group(const GroupPtr& group, const std::string& member_id,
                                                      const std::string& reason) {
  Member* member = group->get(member_id);
  if (!member) return;
  // A new member may still wait in JoinGroup: UNKNOWN_MEMBER_ID makes it start over.
  group->invoke_join_callback(*member, JoinResult::failure("", ErrorCode::kUnknownMemberId));
  group->invoke_sync_callback(*member, sync_error(ErrorCode::kUnknownMemberId));
  timers_.cancel(member->session_timer);
  group->remove(member_id);
  switch (group->state()) {
    case GroupState::kStable:
    case GroupState::kCompletingRebalance:
      return maybe_prepare_rebalance(group, reason);
    case GroupState::kPreparingRebalance:
      return check_join_complete(group);
    case GroupState::kEmpty:
    case GroupState::kDead:
      return;
  }
}

void GroupCoordinator::remove_pending_member_and_update_group(const GroupPtr& group, const std::string& member_id) {
  timers_.cancel(group->remove_pending_member(member_id));
  if (group->is(GroupState::kPreparingRebalance)) check_join_complete(group);
}

void GroupCoordinator::cancel_group_timers(Group& group) {
  timers_.cancel(group.join_wait.timer);
  group.join_wait = JoinWait{};
  timers_.cancel(group.sync_timer);
  group.sync_timer = 0;
  for (const auto& id : group.member_ids()) timers_.cancel(group.get(id)->session_timer);
  for (const auto& [id, timer] : group.pending_members()) timers_.cancel(timer);
}

}  // namespace runnel::coordinator
