// Offsets and persistence: OffsetCommit/OffsetFetch/OffsetDelete, group admin
// (ListGroups, DescribeGroups, DeleteGroups), offset retention, and the writing
// of __consumer_offsets records.
#include <algorithm>

#include <spdlog/spdlog.h>

#include "coordinator/group_coordinator.h"

namespace runnel::coordinator {

ErrorCode map_group_store_error(ErrorCode error) {
  switch (error) {
    case ErrorCode::kUnknownTopicOrPartition:
    case ErrorCode::kNotEnoughReplicas:
    case ErrorCode::kNotEnoughReplicasAfterAppend:
    // Kafka answers NOT_COORDINATOR for a storage error, which sends clients to look
    // for another broker; a single node has none, so say "not available" (retriable).
    case ErrorCode::kKafkaStorageError:
      return ErrorCode::kCoordinatorNotAvailable;
    // Leadership of the partition moved mid-write: the group has a new coordinator.
    case ErrorCode::kNotLeaderOrFollower:
      return ErrorCode::kNotCoordinator;
    // Replicas did not acknowledge in time: Kafka's storeGroup answers
    // REBALANCE_IN_PROGRESS, so SyncGroup members rejoin rather than give up.
    case ErrorCode::kRequestTimedOut:
      return ErrorCode::kRebalanceInProgress;
    case ErrorCode::kMessageTooLarge:
    case ErrorCode::kRecordListTooLarge:
    case ErrorCode::kInvalidFetchSize:
      return ErrorCode::kUnknownServerError;
    default:
      return error;
  }
}

ErrorCode map_offset_store_error(ErrorCode error) {
  switch (error) {
    case ErrorCode::kMessageTooLarge:
    case ErrorCode::kRecordListTooLarge:
    case ErrorCode::kInvalidFetchSize:
      return ErrorCode::kInvalidCommitOffsetSize;
    // Kafka's storeOffsets passes REQUEST_TIMED_OUT through; consumers treat it like
    // NOT_COORDINATOR (rediscover the coordinator and retry the commit).
    case ErrorCode::kRequestTimedOut:
      return ErrorCode::kRequestTimedOut;
    default:
      return map_group_store_error(error);
  }
}

// ---------------------------------------------------------------- writing

void GroupCoordinator::store_group(const GroupPtr& group, const std::map<std::string, Bytes>& assignment,
                                   std::function<void(ErrorCode)> done) {
  GroupMetadataValue value;
  value.protocol_type = group->protocol_type().value_or("");
  value.generation = group->generation();
  value.protocol = group->protocol_name();
  value.leader = group->leader_id();
  value.current_state_timestamp = group->state_timestamp();
  for (const auto& [id, member] : group->members()) {
    GroupMetadataValue::Member m;
    m.member_id = id;
    m.group_instance_id = member.group_instance_id;
    m.client_id = member.client_id;
    m.client_host = member.client_host;
    m.rebalance_timeout_ms = member.rebalance_timeout_ms;
    m.session_timeout_ms = member.session_timeout_ms;
    if (const Bytes* subscription = value.protocol ? member.metadata_for(*value.protocol) : nullptr) {
      m.subscription = *subscription;
    }
    if (auto it = assignment.find(id); it != assignment.end()) m.assignment = it->second;
    value.members.push_back(std::move(m));
  }
  std::vector<LogRecord> records;
  records.push_back({encode_group_metadata_key({group->id()}), encode_group_metadata_value(value)});
  append(partition_for(group->id()), std::move(records),
         [done = std::move(done)](ErrorCode error) { done(map_group_store_error(error)); });
}

void GroupCoordinator::store_offsets(const GroupPtr& group, std::vector<OffsetCommitEntry> entries,
                                     CommitCallback done) {
  std::vector<ErrorCode> errors(entries.size(), ErrorCode::kNone);
  std::vector<size_t> valid;
  for (size_t i = 0; i < entries.size(); ++i) {
    const auto& metadata = entries[i].metadata;
    if (metadata && metadata->size() > static_cast<size_t>(config_.offset_metadata_max_bytes)) {
      errors[i] = ErrorCode::kOffsetMetadataTooLarge;
    } else {
      valid.push_back(i);
    }
  }
  if (valid.empty()) return done(std::move(errors));

  const int64_t now = timers_.wall_clock_ms();
  std::vector<LogRecord> records;
  std::vector<std::pair<TopicPartition, OffsetAndMetadata>> committed;
  for (size_t i : valid) {
    const auto& e = entries[i];
    OffsetAndMetadata value{e.offset, e.leader_epoch, e.metadata.value_or(""),
                            e.commit_timestamp == -1 ? now : e.commit_timestamp, -1};
    records.push_back({encode_offset_commit_key({group->id(), e.partition.topic, e.partition.partition}),
                       encode_offset_commit_value({value.offset, value.leader_epoch, value.metadata,
                                                   value.commit_timestamp, -1})});
    ++group->pending_offset_commits[e.partition];
    committed.emplace_back(e.partition, std::move(value));
  }
  append(partition_for(group->id()), std::move(records),
         [group, committed = std::move(committed), valid = std::move(valid), errors = std::move(errors),
          done = std::move(done)](ErrorCode error) mutable {
           for (const auto& [tp, value] : committed) {
             if (auto it = group->pending_offset_commits.find(tp); it != group->pending_offset_commits.end()) {
               if (--it->second <= 0) group->pending_offset_commits.erase(it);
             }
             // Visible to OffsetFetch only once durable; a deleted (or unloaded:
             // answered NOT_COORDINATOR at unload) group stays as it is.
             if (error == ErrorCode::kNone && !group->is(GroupState::kDead)) group->offsets[tp] = value;
           }
           const ErrorCode mapped = map_offset_store_error(error);
           for (size_t i : valid) errors[i] = mapped;
           done(std::move(errors));
         });
}

void GroupCoordinator::cleanup_groups(const std::vector<GroupPtr>& groups,
                                      const std::function<std::vector<TopicPartition>(Group&)>& remove,
                                      std::function<void(ErrorCode)> done) {
  std::map<int32_t, std::vector<LogRecord>> tombstones;
  for (const auto& group : groups) {
    const int32_t partition = partition_for(group->id());
    for (const auto& tp : remove(*group)) {
      tombstones[partition].push_back(
          {encode_offset_commit_key({group->id(), tp.topic, tp.partition}), std::nullopt});
    }
    if (group->is(GroupState::kEmpty) && !group->has_offsets()) {
      group->transition_to(GroupState::kDead, timers_.wall_clock_ms());
    }
    if (group->is(GroupState::kDead)) {
      spdlog::info("group {}: removed (generation {})", group->id(), group->generation());
      cancel_group_timers(*group);
      if (auto it = groups_.find(group->id()); it != groups_.end() && it->second == group) groups_.erase(it);
      tombstones[partition].push_back({encode_group_metadata_key({group->id()}), std::nullopt});
    }
  }
  if (tombstones.empty()) return done(ErrorCode::kNone);
  struct Pending {
    size_t remaining;
    ErrorCode first_error = ErrorCode::kNone;
    std::function<void(ErrorCode)> done;
  };
  auto pending = std::make_shared<Pending>(Pending{tombstones.size(), ErrorCode::kNone, std::move(done)});
  for (auto& [partition, records] : tombstones) {
    append(partition, std::move(records), [pending](ErrorCode error) {
      if (error != ErrorCode::kNone && pending->first_error == ErrorCode::kNone) pending->first_error = error;
      if (--pending->remaining == 0) pending->done(map_group_store_error(pending->first_error));
    });
  }
}

// ---------------------------------------------------------------- offsets

void GroupCoordinator::commit_offsets(OffsetCommitParams params, CommitCallback done) {
  auto fail_all = [&](ErrorCode error) { done(std::vector<ErrorCode>(params.offsets.size(), error)); };
  if (auto error = partition_error(params.group_id)) return fail_all(*error);
  GroupPtr group = find(params.group_id);
  if (!group) {
    // Generation < 0: a consumer that only stores offsets here (assign() users);
    // otherwise a member of a generation this coordinator never had.
    if (params.generation_id >= 0) return fail_all(ErrorCode::kIllegalGeneration);
    group = get_or_create(params.group_id);
  }
  if (group->is(GroupState::kDead)) return fail_all(ErrorCode::kCoordinatorNotAvailable);
  if (params.generation_id >= 0 || !params.member_id.empty() || params.group_instance_id) {
    if (auto error = validate_current_member(*group, params.member_id, params.group_instance_id)) {
      return fail_all(*error);
    }
    if (params.generation_id != group->generation()) return fail_all(ErrorCode::kIllegalGeneration);
  } else if (!group->is(GroupState::kEmpty)) {
    // Only members may commit for a group that has members.
    return fail_all(ErrorCode::kUnknownMemberId);
  }
  switch (group->state()) {
    case GroupState::kEmpty:
      return store_offsets(group, std::move(params.offsets), std::move(done));
    case GroupState::kStable:
    case GroupState::kPreparingRebalance: {
      // A commit is as good as a heartbeat; during a rebalance it is still
      // accepted, the member learns of the rebalance from its next heartbeat.
      Member& member = *group->get(params.member_id);
      schedule_session_timeout(group, member, member.session_timeout_ms);
      return store_offsets(group, std::move(params.offsets), std::move(done));
    }
    case GroupState::kCompletingRebalance:
      return fail_all(ErrorCode::kRebalanceInProgress);
    case GroupState::kDead:
      return fail_all(ErrorCode::kCoordinatorNotAvailable);
  }
}

OffsetFetchResult GroupCoordinator::fetch_offsets(const std::string& group_id,
                                                  const std::optional<std::vector<TopicPartition>>& partitions,
                                                  bool require_stable) const {
  OffsetFetchResult result;
  if (auto error = partition_error(group_id)) {
    result.error = *error;
    return result;
  }
  GroupPtr group = find(group_id);
  if (!group || group->is(GroupState::kDead)) {
    // Unknown group: no offsets, and no error (the consumer starts by its reset policy).
    if (partitions) {
      for (const auto& tp : *partitions) result.offsets.push_back({tp, -1, -1, "", ErrorCode::kNone});
    }
    return result;
  }
  std::vector<TopicPartition> wanted;
  if (partitions) {
    wanted = *partitions;
  } else {
    for (const auto& [tp, value] : group->offsets) wanted.push_back(tp);
  }
  for (const auto& tp : wanted) {
    if (require_stable && group->pending_offset_commits.contains(tp)) {
      result.offsets.push_back({tp, -1, -1, "", ErrorCode::kUnstableOffsetCommit});
      continue;
    }
    auto it = group->offsets.find(tp);
    if (it == group->offsets.end()) {
      result.offsets.push_back({tp, -1, -1, "", ErrorCode::kNone});
    } else {
      result.offsets.push_back({tp, it->second.offset, it->second.leader_epoch, it->second.metadata, ErrorCode::kNone});
    }
  }
  return result;
}

void GroupCoordinator::delete_offsets(const std::string& group_id, std::vector<TopicPartition> partitions,
                                      std::function<void(OffsetDeleteResult)> done) {
  OffsetDeleteResult result;
  auto fail = [&](ErrorCode error) {
    result.error = error;
    done(std::move(result));
  };
  if (group_id.empty()) return fail(ErrorCode::kInvalidGroupId);
  if (auto error = partition_error(group_id)) return fail(*error);
  GroupPtr group = find(group_id);
  if (!group || group->is(GroupState::kDead)) return fail(ErrorCode::kGroupIdNotFound);
  result.partitions.assign(partitions.size(), ErrorCode::kNone);
  std::vector<size_t> eligible;
  if (group->is(GroupState::kEmpty)) {
    for (size_t i = 0; i < partitions.size(); ++i) eligible.push_back(i);
  } else if (group->is_consumer_group()) {
    // Offsets of topics the members still consume must stay.
    for (size_t i = 0; i < partitions.size(); ++i) {
      if (group->is_subscribed_to_topic(partitions[i].topic)) {
        result.partitions[i] = ErrorCode::kGroupSubscribedToTopic;
      } else {
        eligible.push_back(i);
      }
    }
  } else {
    return fail(ErrorCode::kNonEmptyGroup);
  }
  if (eligible.empty()) return done(std::move(result));
  auto remove = [&partitions, &eligible](Group& g) {
    std::vector<TopicPartition> removed;
    for (size_t i : eligible) {
      if (g.offsets.erase(partitions[i]) > 0) removed.push_back(partitions[i]);
    }
    return removed;
  };
  cleanup_groups({group}, remove,
                 [result = std::move(result), eligible, done = std::move(done)](ErrorCode error) mutable {
                   for (size_t i : eligible) result.partitions[i] = error;
                   done(std::move(result));
                 });
}

void GroupCoordinator::expire_offsets() {
  const int64_t now = timers_.wall_clock_ms();
  const int64_t retention = config_.offsets_retention_ms;
  // groups_ holds only groups of loaded partitions: the others are not ours to expire.
  std::vector<GroupPtr> all;
  all.reserve(groups_.size());
  for (const auto& [id, group] : groups_) all.push_back(group);
  size_t expired_count = 0;
  // Kafka's rules (KIP-211): an empty group's offsets expire `retention` after it
  // became empty; a stable consumer group's offsets of topics it no longer
  // subscribes to, and a simple (protocol-less) group's offsets, `retention` after
  // their commit. Offsets being written never expire.
  auto expire = [&](Group& group) {
    std::vector<TopicPartition> expired;
    std::optional<int64_t> base_state_timestamp;
    const std::set<std::string>* keep_topics = nullptr;
    if (group.protocol_type() && group.is(GroupState::kEmpty)) {
      base_state_timestamp = group.state_timestamp();
    } else if (group.is_consumer_group() && group.subscribed_topics() && group.is(GroupState::kStable)) {
      keep_topics = &*group.subscribed_topics();
    } else if (group.protocol_type()) {
      return expired;
    }
    for (auto it = group.offsets.begin(); it != group.offsets.end();) {
      const auto& [tp, value] = *it;
      bool expire_it = !(keep_topics && keep_topics->contains(tp.topic)) && !group.pending_offset_commits.contains(tp);
      if (expire_it) {
        expire_it = value.expire_timestamp >= 0
                        ? now >= value.expire_timestamp
                        : now - base_state_timestamp.value_or(value.commit_timestamp) >= retention;
      }
      if (expire_it) {
        expired.push_back(tp);
        it = group.offsets.erase(it);
      } else {
        ++it;
      }
    }
    expired_count += expired.size();
    return expired;
  };
  const size_t groups_before = groups_.size();
  cleanup_groups(all, expire, [](ErrorCode error) {
    if (error != ErrorCode::kNone) {
      spdlog::warn("offset expiration: cannot write tombstones: {} ({})", error_name(error), to_wire(error));
    }
  });
  if (expired_count > 0 || groups_.size() != groups_before) {
    spdlog::info("offset expiration: removed {} offsets and {} groups", expired_count, groups_before - groups_.size());
  }
}

void GroupCoordinator::schedule_retention_check() {
  if (shut_down_) return;
  retention_timer_ = timers_.schedule(config_.retention_check_interval_ms, [this] {
    retention_timer_ = 0;
    expire_offsets();
    schedule_retention_check();
  });
}

void GroupCoordinator::start() { schedule_retention_check(); }

// ---------------------------------------------------------------- admin

ListGroupsResult GroupCoordinator::list_groups(const std::set<GroupState>& states) const {
  ListGroupsResult result;
  // groups_ holds only groups of loaded partitions; a partition not owned is no error.
  for (const auto& [p, load] : partitions_) {
    if (load == PartitionLoad::kLoading) result.error = ErrorCode::kCoordinatorLoadInProgress;
  }
  for (const auto& [id, group] : groups_) {
    if (group->is(GroupState::kDead)) continue;
    if (!states.empty() && !states.contains(group->state())) continue;
    result.groups.push_back({id, group->protocol_type().value_or(""), std::string(group_state_name(group->state()))});
  }
  std::sort(result.groups.begin(), result.groups.end(),
            [](const GroupOverview& a, const GroupOverview& b) { return a.group_id < b.group_id; });
  return result;
}

GroupSummary GroupCoordinator::describe_group(const std::string& group_id) const {
  GroupSummary summary;
  if (auto error = partition_error(group_id)) {
    summary.error = *error;  // and no state, as Kafka's EmptyGroup summary
    return summary;
  }
  GroupPtr group = find(group_id);
  if (!group) {
    summary.state = group_state_name(GroupState::kDead);
    return summary;
  }
  summary.state = group_state_name(group->state());
  summary.protocol_type = group->protocol_type().value_or("");
  // Metadata and assignments only mean something once the generation is stable.
  const bool stable = group->is(GroupState::kStable) && group->protocol_name();
  if (stable) summary.protocol = *group->protocol_name();
  for (const auto& [id, member] : group->members()) {
    MemberSummary m{id, member.group_instance_id, member.client_id, member.client_host, {}, {}};
    if (stable) {
      if (const Bytes* metadata = member.metadata_for(summary.protocol)) m.metadata = *metadata;
      m.assignment = member.assignment;
    }
    summary.members.push_back(std::move(m));
  }
  return summary;
}

void GroupCoordinator::delete_groups(const std::vector<std::string>& group_ids,
                                     std::function<void(std::vector<ErrorCode>)> done) {
  std::vector<ErrorCode> errors(group_ids.size(), ErrorCode::kNone);
  std::vector<GroupPtr> eligible;
  std::vector<size_t> eligible_index;
  for (size_t i = 0; i < group_ids.size(); ++i) {
    GroupPtr group = find(group_ids[i]);
    if (auto error = partition_error(group_ids[i])) {
      errors[i] = *error;
    } else if (!group || group->is(GroupState::kDead)) {
      errors[i] = ErrorCode::kGroupIdNotFound;
    } else if (group->is(GroupState::kEmpty)) {
      group->transition_to(GroupState::kDead, timers_.wall_clock_ms());
      eligible.push_back(group);
      eligible_index.push_back(i);
    } else {
      errors[i] = ErrorCode::kNonEmptyGroup;
    }
  }
  if (eligible.empty()) return done(std::move(errors));
  auto remove_all = [](Group& g) {
    std::vector<TopicPartition> removed;
    for (const auto& [tp, value] : g.offsets) removed.push_back(tp);
    g.offsets.clear();
    return removed;
  };
  cleanup_groups(eligible, remove_all,
                 [errors = std::move(errors), eligible_index, done = std::move(done)](ErrorCode error) mutable {
                   for (size_t i : eligible_index) errors[i] = error;
                   done(std::move(errors));
                 });
}

}  // namespace runnel::coordinator
