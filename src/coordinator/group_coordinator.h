#pragma once
// The group coordinator: Kafka's classic consumer-group protocol (JoinGroup,
// SyncGroup, Heartbeat, LeaveGroup), committed offsets, and group admin (list,
// describe, delete), with everything durable in __consumer_offsets.
//
// It runs on one thread (the broker's event loop): no locks. Requests that wait
// (JoinGroup until the rebalance completes, SyncGroup until the leader's
// assignment is stored, commits until durable) take a callback, which is always
// invoked exactly once. Timers and writes go through TimerService and GroupStore.
// The behaviour follows Kafka's GroupCoordinator; where this file departs from it,
// a comment says why.
//
// In a cluster a broker coordinates the groups of the __consumer_offsets
// partitions it leads (partition_for): load_partition() when it becomes leader,
// unload_partition() when it stops. Every request for a group of a partition that
// is not loaded is answered NOT_COORDINATOR, and COORDINATOR_LOAD_IN_PROGRESS while
// it loads (Kafka's validateGroupStatus), so handlers need not know who leads.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/error_code.h"
#include "coordinator/group.h"
#include "coordinator/group_records.h"
#include "coordinator/group_store.h"
#include "coordinator/pending_writes.h"
#include "coordinator/timer_service.h"

namespace runnel::coordinator {

struct GroupCoordinatorConfig {
  int32_t min_session_timeout_ms = 6000;          // group.min.session.timeout.ms
  int32_t max_session_timeout_ms = 1800000;       // group.max.session.timeout.ms
  int32_t max_group_size = INT32_MAX;             // group.max.size
  int32_t initial_rebalance_delay_ms = 3000;      // group.initial.rebalance.delay.ms
  int64_t offsets_retention_ms = 10080LL * 60 * 1000;  // offsets.retention.minutes
  int64_t retention_check_interval_ms = 600000;   // offsets.retention.check.interval.ms
  int32_t offset_metadata_max_bytes = 4096;       // offset.metadata.max.bytes
  int32_t new_member_join_timeout_ms = 5 * 60 * 1000;  // Kafka's NewMemberJoinTimeoutMs
};

struct JoinGroupParams {
  std::string group_id;
  std::string member_id;
  std::optional<std::string> group_instance_id;
  bool require_known_member_id = false;      // JoinGroup v4+ without an instance id (KIP-394)
  bool support_skipping_assignment = false;  // JoinGroup v9+
  std::string client_id;
  std::string client_host;
  int32_t rebalance_timeout_ms = 0;
  int32_t session_timeout_ms = 0;
  std::string protocol_type;
  std::vector<Protocol> protocols;
  std::string reason;
};

struct SyncGroupParams {
  std::string group_id;
  int32_t generation_id = -1;
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::optional<std::string> protocol_type;
  std::optional<std::string> protocol_name;
  std::map<std::string, Bytes> assignments;
};

struct LeavingMember {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::optional<std::string> reason;
};

struct LeaveGroupResult {
  ErrorCode error = ErrorCode::kNone;
  std::vector<ErrorCode> members;  // one per leaving member, in request order
};

struct OffsetCommitEntry {
  TopicPartition partition;
  int64_t offset = -1;
  int32_t leader_epoch = -1;
  std::optional<std::string> metadata;
  int64_t commit_timestamp = -1;  // -1: now
};

struct OffsetCommitParams {
  std::string group_id;
  std::string member_id;
  std::optional<std::string> group_instance_id;
  int32_t generation_id = -1;
  std::vector<OffsetCommitEntry> offsets;
};

using CommitCallback = std::function<void(std::vector<ErrorCode>)>;  // one per entry, in order

struct FetchedOffset {
  TopicPartition partition;
  int64_t offset = -1;
  int32_t leader_epoch = -1;
  std::string metadata;
  ErrorCode error = ErrorCode::kNone;
};

struct OffsetFetchResult {
  ErrorCode error = ErrorCode::kNone;
  std::vector<FetchedOffset> offsets;
};

struct GroupOverview {
  std::string group_id;
  std::string protocol_type;
  std::string state;
};

struct ListGroupsResult {
  ErrorCode error = ErrorCode::kNone;
  std::vector<GroupOverview> groups;
};

struct MemberSummary {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  Bytes metadata;
  Bytes assignment;
};

struct GroupSummary {
  ErrorCode error = ErrorCode::kNone;
  std::string state;
  std::string protocol_type;
  std::string protocol;
  std::vector<MemberSummary> members;
};

struct OffsetDeleteResult {
  ErrorCode error = ErrorCode::kNone;   // group-level; partitions empty when set
  std::vector<ErrorCode> partitions;    // one per requested partition, in order
};

// Whether this coordinator serves the groups of one __consumer_offsets partition.
enum class PartitionLoad { kNotOwned, kLoading, kLoaded };

class GroupCoordinator {
 public:
  // Feeds every record of one partition, oldest first, to the function it is given.
  using PartitionReplay = std::function<void(const std::function<void(const LogRecord&)>&)>;

  GroupCoordinator(GroupCoordinatorConfig config, TimerService& timers, GroupStore& store);
  ~GroupCoordinator();
  GroupCoordinator(const GroupCoordinator&) = delete;
  GroupCoordinator& operator=(const GroupCoordinator&) = delete;

  // Starts coordinating one __consumer_offsets partition: `replay` is called once,
  // synchronously, with a function to feed every record of the partition (oldest
  // first; the last record per key wins, tombstones delete); then the partition's
  // groups are built, their members' session timers start and they are served.
  // Records of groups that belong to another partition are skipped. A partition
  // already loaded (or loading) stays as it is and `replay` is not called. If
  // `replay` throws, the partition stays not owned and the exception propagates.
  void load_partition(int32_t partition, const PartitionReplay& replay);
  // Stops coordinating it (leadership moved): its groups are dropped; every request
  // of theirs still waiting (JoinGroup, SyncGroup, and every store write: commits,
  // assignments, deletions) is answered NOT_COORDINATOR at once, and the store's
  // own answer, when it comes, is dropped; their timers are cancelled. Idempotent.
  // A later load_partition() of the same partition starts from the log again.
  void unload_partition(int32_t partition);
  PartitionLoad partition_load(int32_t partition) const;

  // Single-node startup, "load every partition": replay every record of every
  // partition (as load_partition's feed), then finish_loading() builds the groups
  // and marks every partition loaded. Records after finish_loading() are ignored.
  void replay(const LogRecord& record);
  void finish_loading();
  // Starts the periodic offset-retention check.
  void start();
  // Cancels every timer; pending requests are abandoned (the loop is stopping).
  void shutdown();

  int32_t partition_for(const std::string& group_id) const;

  // Membership.
  void join_group(JoinGroupParams params, JoinCallback done);
  void sync_group(SyncGroupParams params, SyncCallback done);
  ErrorCode heartbeat(const std::string& group_id, const std::string& member_id,
                      const std::optional<std::string>& group_instance_id, int32_t generation_id);
  LeaveGroupResult leave_group(const std::string& group_id, const std::vector<LeavingMember>& members);

  // Offsets.
  void commit_offsets(OffsetCommitParams params, CommitCallback done);
  // partitions == nullopt: every committed offset of the group.
  OffsetFetchResult fetch_offsets(const std::string& group_id,
                                  const std::optional<std::vector<TopicPartition>>& partitions,
                                  bool require_stable) const;
  void delete_offsets(const std::string& group_id, std::vector<TopicPartition> partitions,
                      std::function<void(OffsetDeleteResult)> done);
  // Drops offsets past offsets.retention.minutes (and groups left empty without
  // offsets), writing tombstones. Runs on a timer; public for tests.
  void expire_offsets();

  // Admin.
  // Groups of loaded partitions only (empty states: all); COORDINATOR_LOAD_IN_PROGRESS
  // while a partition loads, as Kafka, with the groups of those already loaded.
  ListGroupsResult list_groups(const std::set<GroupState>& states) const;
  GroupSummary describe_group(const std::string& group_id) const;
  void delete_groups(const std::vector<std::string>& group_ids, std::function<void(std::vector<ErrorCode>)> done);

  // For tests and logging (groups of loaded partitions only).
  const Group* group(const std::string& group_id) const;
  size_t group_count() const { return groups_.size(); }
  const GroupCoordinatorConfig& config() const { return config_; }

 private:
  using GroupPtr = std::shared_ptr<Group>;

  // Partitions (group_coordinator_partitions.cpp). Kafka's validateGroupStatus for
  // the partition: nullopt when the group's partition is loaded.
  std::optional<ErrorCode> partition_error(const std::string& group_id) const;
  // Answers the group's waiting members NOT_COORDINATOR and stops its timers.
  void unload_group(const GroupPtr& group);
  // Every store write goes through here, so unload_partition() can answer it.
  void append(int32_t partition, std::vector<LogRecord> records, std::function<void(ErrorCode)> done);

  GroupPtr find(const std::string& group_id) const;
  GroupPtr get_or_create(const std::string& group_id);
  std::string generate_member_id(const std::string& client_id, const std::optional<std::string>& instance_id);

  // Membership internals (group_coordinator.cpp).
  bool accept_joining_member(const Group& group, const std::string& member_id) const;
  void do_new_member_join(const GroupPtr& group, JoinGroupParams& params, JoinCallback& done);
  void do_current_member_join(const GroupPtr& group, JoinGroupParams& params, JoinCallback& done);
  void update_static_member_and_rebalance(const GroupPtr& group, const std::string& old_id, const std::string& new_id,
                                          JoinGroupParams& params, JoinCallback& done);
  void add_member_and_rebalance(const GroupPtr& group, const std::string& member_id, JoinGroupParams& params,
                                JoinCallback done);
  void update_member_and_rebalance(const GroupPtr& group, Member& member, JoinGroupParams& params, JoinCallback done,
                                   const std::string& reason);
  std::optional<ErrorCode> validate_current_member(const Group& group, const std::string& member_id,
                                                   const std::optional<std::string>& instance_id) const;
  void maybe_prepare_rebalance(const GroupPtr& group, const std::string& reason);
  void prepare_rebalance(const GroupPtr& group, const std::string& reason);
  void schedule_join(const GroupPtr& group, bool initial, int32_t delay_ms, int32_t remaining_ms);
  void on_join_timer(const std::weak_ptr<Group>& weak);
  void check_join_complete(const GroupPtr& group);
  void complete_join(const GroupPtr& group);
  void schedule_pending_sync(const GroupPtr& group);
  void on_pending_sync_expired(const std::weak_ptr<Group>& weak, int32_t generation);
  void remove_pending_sync_member(const GroupPtr& group, const std::string& member_id);
  void schedule_session_timeout(const GroupPtr& group, Member& member, int32_t timeout_ms);
  void on_session_timeout(const std::weak_ptr<Group>& weak, const std::string& member_id);
  void on_pending_member_timeout(const std::weak_ptr<Group>& weak, const std::string& member_id);
  void remove_member_and_update_group(const GroupPtr& group, const std::string& member_id, const std::string& reason);
  void remove_pending_member_and_update_group(const GroupPtr& group, const std::string& member_id);
  void reset_and_propagate_assignment_error(const GroupPtr& group, ErrorCode error);
  void propagate_assignment(const GroupPtr& group, ErrorCode error);
  JoinResult join_result_for(const Group& group, const std::string& member_id, bool include_members) const;
  void cancel_group_timers(Group& group);

  // Persistence (group_coordinator_offsets.cpp).
  void store_group(const GroupPtr& group, const std::map<std::string, Bytes>& assignment,
                   std::function<void(ErrorCode)> done);
  void store_offsets(const GroupPtr& group, std::vector<OffsetCommitEntry> entries, CommitCallback done);
  // Applies `remove` to each group (it drops offsets and returns them), turns groups
  // left Empty without offsets Dead, and writes the tombstones; done(first error).
  void cleanup_groups(const std::vector<GroupPtr>& groups,
                      const std::function<std::vector<TopicPartition>(Group&)>& remove,
                      std::function<void(ErrorCode)> done);
  void schedule_retention_check();

  GroupCoordinatorConfig config_;
  TimerService& timers_;
  GroupStore& store_;
  // Only groups of loaded partitions: unload_partition() erases a partition's groups.
  std::unordered_map<std::string, GroupPtr> groups_;
  std::map<int32_t, PartitionLoad> partitions_;  // absent: kNotOwned
  // Shared so that a store callback arriving after the coordinator is gone finds nothing.
  std::shared_ptr<PendingWrites> writes_ = std::make_shared<PendingWrites>();
  TimerId retention_timer_ = 0;
  bool shut_down_ = false;

  // What a replay has read so far (group_coordinator_replay.cpp).
  struct Loading {
    std::map<std::string, std::map<TopicPartition, OffsetAndMetadata>> offsets;
    std::map<std::string, GroupMetadataValue> groups;
    std::set<std::string> removed_groups;
    size_t records = 0;
    size_t skipped = 0;
  };
  static void apply_record(Loading& loading, const LogRecord& record);
  // Builds the groups `accept` takes and starts their members' session timers.
  void install(Loading& loading, const std::function<bool(const std::string&)>& accept, const std::string& source);
  // The single-node replay() state, cleared by finish_loading().
  std::unique_ptr<Loading> loading_;
};

// Kafka's error mapping for a failed write of group metadata or of offsets.
ErrorCode map_group_store_error(ErrorCode error);
ErrorCode map_offset_store_error(ErrorCode error);

}  // namespace runnel::coordinator
