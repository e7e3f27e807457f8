// Which __consumer_offsets partitions this coordinator serves: loading one when
// the broker becomes its leader, unloading it when leadership moves (Kafka's
// handleGroupImmigration / handleGroupEmigration), and the gate every request
// passes (Kafka's validateGroupStatus).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "coordinator/group_coordinator.h"

namespace runnel::coordinator {

PartitionLoad GroupCoordinator::partition_load(int32_t partition) const {
  auto it = partitions_.find(partition);
  return it == partitions_.end() ? PartitionLoad::kNotOwned : it->second;
}

std::optional<ErrorCode> GroupCoordinator::partition_error(const std::string& group_id) const {
  switch (partition_load(partition_for(group_id))) {
    case PartitionLoad::kLoaded:
      return std::nullopt;
    case PartitionLoad::kLoading:
      return ErrorCode::kCoordinatorLoadInProgress;
    case PartitionLoad::kNotOwned:
      break;
  }
  return ErrorCode::kNotCoordinator;
}

void GroupCoordinator::load_partition(int32_t partition, const PartitionReplay& replay) {
  const std::string source = fmt::format("{}-{}", kOffsetsTopic, partition);
  if (partition_load(partition) != PartitionLoad::kNotOwned) {
    // As Kafka: a partition already owned is not loaded twice.
    spdlog::info("{}: already loaded or loading", source);
    return;
  }
  partitions_[partition] = PartitionLoad::kLoading;
  Loading loading;
  try {
    replay([&loading](const LogRecord& record) { apply_record(loading, record); });
  } catch (...) {
    if (partition_load(partition) == PartitionLoad::kLoading) partitions_.erase(partition);
    spdlog::error("{}: loading failed; the partition stays unowned", source);
    throw;
  }
  // The replay may have called back into the coordinator; if that unloaded the
  // partition (leadership moved again), what it read is no longer ours to serve.
  if (partition_load(partition) != PartitionLoad::kLoading) {
    spdlog::info("{}: unloaded while loading; discarding what was read", source);
    return;
  }
  install(loading, [this, partition](const std::string& id) { return partition_for(id) == partition; }, source);
  partitions_[partition] = PartitionLoad::kLoaded;
}

void GroupCoordinator::unload_partition(int32_t partition) {
  auto it = partitions_.find(partition);
  if (it == partitions_.end()) return;
  // First, so that anything the callbacks below do is answered NOT_COORDINATOR.
  partitions_.erase(it);
  std::vector<GroupPtr> dropped;
  size_t offsets = 0;
  for (auto g = groups_.begin(); g != groups_.end();) {
    if (partition_for(g->first) == partition) {
      offsets += g->second->offsets.size();
      dropped.push_back(std::move(g->second));
      g = groups_.erase(g);
    } else {
      ++g;
    }
  }
  for (const auto& group : dropped) unload_group(group);
  // Commits, assignments and tombstones still being written: NOT_LEADER_OR_FOLLOWER
  // is what the store answers once leadership has moved, and each caller maps it
  // to NOT_COORDINATOR. Their groups are Dead by now, so nothing is applied.
  const size_t writes = writes_->fail_partition(partition, ErrorCode::kNotLeaderOrFollower);
  spdlog::info("{}-{}: unloaded {} groups and {} committed offsets; {} writes in flight answered NOT_COORDINATOR",
               kOffsetsTopic, partition, dropped.size(), offsets, writes);
}

void GroupCoordinator::unload_group(const GroupPtr& group) {
  // As Kafka's onGroupUnloaded: the group is Dead (writes completing later leave it
  // alone) and members waiting in JoinGroup or SyncGroup go find the new coordinator.
  cancel_group_timers(*group);
  group->transition_to(GroupState::kDead, timers_.wall_clock_ms());
  for (const auto& id : group->member_ids()) {
    Member* member = group->get(id);
    if (!member) continue;
    group->invoke_join_callback(*member, JoinResult::failure(id, ErrorCode::kNotCoordinator));
    group->invoke_sync_callback(*member, SyncResult{ErrorCode::kNotCoordinator, std::nullopt, std::nullopt, {}});
  }
}

void GroupCoordinator::append(int32_t partition, std::vector<LogRecord> records,
                              std::function<void(ErrorCode)> done) {
  const uint64_t id = writes_->add(partition, std::move(done));
  std::weak_ptr<PendingWrites> weak = writes_;
  store_.append(partition, std::move(records), [weak, partition, id](ErrorCode error) {
    if (auto writes = weak.lock()) writes->finish(partition, id, error);
  });
}

}  // namespace runnel::coordinator
