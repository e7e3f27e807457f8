// Startup replay of __consumer_offsets: the last record per key wins, a
// tombstone deletes; then groups are rebuilt as Kafka's loadGroupsAndOffsets does.
#include <spdlog/spdlog.h>

#include "coordinator/group_coordinator.h"
#include "protocol/wire.h"

namespace runnel::coordinator {

void GroupCoordinator::replay(const LogRecord& record) {
  if (!loading_) return;
  ++loading_->records;
  try {
    if (record.key.empty()) throw protocol::DecodeError("record without a key");
    const RecordKey key = decode_record_key(record.key);
    if (const auto* offset_key = std::get_if<OffsetCommitKey>(&key)) {
      auto& group_offsets = loading_->offsets[offset_key->group];
      const TopicPartition tp{offset_key->topic, offset_key->partition};
      if (!record.value) {
        group_offsets.erase(tp);
        if (group_offsets.empty()) loading_->offsets.erase(offset_key->group);
      } else {
        const auto v = decode_offset_commit_value(*record.value);
        group_offsets[tp] = OffsetAndMetadata{v.offset, v.leader_epoch, v.metadata, v.commit_timestamp,
                                              v.expire_timestamp};
      }
    } else if (const auto* group_key = std::get_if<GroupMetadataKey>(&key)) {
      if (!record.value) {
        loading_->groups.erase(group_key->group);
        loading_->removed_groups.insert(group_key->group);
      } else {
        loading_->groups[group_key->group] = decode_group_metadata_value(*record.value);
        loading_->removed_groups.erase(group_key->group);
      }
    } else {
      // Other key versions (e.g. newer coordinator records): skipped, as Kafka does.
      ++loading_->skipped;
    }
  } catch (const protocol::DecodeError& e) {
    ++loading_->skipped;
    spdlog::warn("{}: skipping a malformed record: {}", kOffsetsTopic, e.what());
  }
}

void GroupCoordinator::finish_loading() {
  if (!loading_) return;
  const int64_t now = timers_.wall_clock_ms();
  size_t offset_count = 0;
  for (auto& [id, value] : loading_->groups) {
    auto group = std::make_shared<Group>(id, value.members.empty() ? GroupState::kEmpty : GroupState::kStable, now);
    std::vector<Member> members;
    for (auto& m : value.members) {
      Member member;
      member.member_id = m.member_id;
      member.group_instance_id = m.group_instance_id;
      member.client_id = m.client_id;
      member.client_host = m.client_host;
      member.rebalance_timeout_ms = m.rebalance_timeout_ms;
      member.session_timeout_ms = m.session_timeout_ms;
      member.protocol_type = value.protocol_type;
      if (value.protocol) member.protocols.push_back({*value.protocol, std::move(m.subscription)});
      member.assignment = std::move(m.assignment);
      members.push_back(std::move(member));
    }
    group->load(value.generation,
                value.protocol_type.empty() ? std::nullopt : std::optional<std::string>(value.protocol_type),
                value.protocol, value.leader, value.current_state_timestamp, std::move(members));
    groups_[id] = group;
  }
  // Groups with offsets but no metadata: simple consumers, or groups whose metadata
  // was compacted away. They load as Empty.
  for (auto& [id, offsets] : loading_->offsets) {
    auto& group = groups_[id];
    if (!group) group = std::make_shared<Group>(id, GroupState::kEmpty, now);
    offset_count += offsets.size();
    group->offsets = std::move(offsets);
  }
  // Members of loaded groups get a full session to come back and heartbeat.
  for (const auto& [id, group] : groups_) {
    for (const auto& member_id : group->member_ids()) {
      Member& member = *group->get(member_id);
      schedule_session_timeout(group, member, member.session_timeout_ms);
    }
  }
  spdlog::info("loaded {} groups and {} committed offsets from {} records of {} ({} skipped)", groups_.size(),
               offset_count, loading_->records, kOffsetsTopic, loading_->skipped);
  loading_.reset();
}

}  // namespace runnel::coordinator
