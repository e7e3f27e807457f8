// Replay of __consumer_offsets (a partition's, or every partition's at startup):
// the last record per key wins, a tombstone deletes; then groups are rebuilt as
// Kafka's loadGroupsAndOffsets does.
#include <algorithm>

#include <spdlog/spdlog.h>

#include "coordinator/group_coordinator.h"
#include "protocol/wire.h"

namespace runnel::coordinator {

void GroupCoordinator::replay(const LogRecord& record) {
  if (loading_) apply_record(*loading_, record);
}

void GroupCoordinator::finish_loading() {
  if (!loading_) return;
  const auto loading = std::move(loading_);
  // Partitions loaded on their own already hold their groups.
  install(*loading, [this](const std::string& id) { return partition_load(partition_for(id)) != PartitionLoad::kLoaded; },
          kOffsetsTopic);
  const int32_t partitions = std::max(store_.partition_count(), 1);
  for (int32_t p = 0; p < partitions; ++p) partitions_[p] = PartitionLoad::kLoaded;
}

void GroupCoordinator::apply_record(Loading& loading, const LogRecord& record) {
  ++loading.records;
  try {
    if (record.key.empty()) throw protocol::DecodeError("record without a key");
    const RecordKey key = decode_record_key(record.key);
    if (const auto* offset_key = std::get_if<OffsetCommitKey>(&key)) {
      auto& group_offsets = loading.offsets[offset_key->group];
      const TopicPartition tp{offset_key->topic, offset_key->partition};
      if (!record.value) {
        group_offsets.erase(tp);
        if (group_offsets.empty()) loading.offsets.erase(offset_key->group);
      } else {
        const auto v = decode_offset_commit_value(*record.value);
        group_offsets[tp] = OffsetAndMetadata{v.offset, v.leader_epoch, v.metadata, v.commit_timestamp,
                                              v.expire_timestamp};
      }
    } else if (const auto* group_key = std::get_if<GroupMetadataKey>(&key)) {
      if (!record.value) {
        loading.groups.erase(group_key->group);
        loading.removed_groups.insert(group_key->group);
      } else {
        loading.groups[group_key->group] = decode_group_metadata_value(*record.value);
        loading.removed_groups.erase(group_key->group);
      }
    } else {
      // Other key versions (e.g. newer coordinator records): skipped, as Kafka does.
      ++loading.skipped;
    }
  } catch (const protocol::DecodeError& e) {
    ++loading.skipped;
    spdlog::warn("{}: skipping a malformed record: {}", kOffsetsTopic, e.what());
  }
}

void GroupCoordinator::install(Loading& loading, const std::function<bool(const std::string&)>& accept,
                               const std::string& source) {
  const int64_t now = timers_.wall_clock_ms();
  size_t offset_count = 0;
  std::vector<GroupPtr> installed;
  std::set<std::string> foreign;
  for (auto& [id, value] : loading.groups) {
    if (!accept(id)) {
      foreign.insert(id);
      continue;
    }
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
    installed.push_back(group);
  }
  // Groups with offsets but no metadata: simple consumers, or groups whose metadata
  // was compacted away. They load as Empty.
  for (auto& [id, offsets] : loading.offsets) {
    if (!accept(id)) {
      foreign.insert(id);
      continue;
    }
    auto& group = groups_[id];
    if (!group) {
      group = std::make_shared<Group>(id, GroupState::kEmpty, now);
      installed.push_back(group);
    }
    offset_count += offsets.size();
    group->offsets = std::move(offsets);
  }
  // Members of loaded groups get a full session to come back and heartbeat.
  for (const auto& group : installed) {
    for (const auto& member_id : group->member_ids()) {
      Member& member = *group->get(member_id);
      schedule_session_timeout(group, member, member.session_timeout_ms);
    }
  }
  if (!foreign.empty()) {
    spdlog::warn("{}: skipped {} groups that belong to other partitions", source, foreign.size());
  }
  spdlog::info("{}: loaded {} groups and {} committed offsets from {} records ({} skipped)", source, installed.size(),
               offset_count, loading.records, loading.skipped);
}

}  // namespace runnel::coordinator
