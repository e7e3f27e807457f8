#pragma once
// One consumer group's state, as Kafka's GroupMetadata/MemberMetadata hold it:
// members, generation, leader, selected protocol, committed offsets, and the
// bookkeeping of a rebalance in progress. This is data plus its invariants (the
// counts of awaiting members and of protocol support stay consistent); the
// GroupCoordinator drives the protocol, the timers and persistence around it.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/error_code.h"
#include "coordinator/timer_service.h"

namespace runnel::coordinator {

using Bytes = std::vector<uint8_t>;

enum class GroupState { kEmpty, kPreparingRebalance, kCompletingRebalance, kStable, kDead };

// Kafka's names: "Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead".
std::string_view group_state_name(GroupState state);
// Case-insensitive, as ListGroups' state filter is matched.
std::optional<GroupState> parse_group_state(std::string_view name);

struct Protocol {
  std::string name;
  Bytes metadata;
  bool operator==(const Protocol&) const = default;
};

struct JoinResult {
  struct Member {
    std::string member_id;
    std::optional<std::string> group_instance_id;
    Bytes metadata;
  };
  ErrorCode error = ErrorCode::kNone;
  std::string member_id;
  int32_t generation_id = -1;
  std::optional<std::string> protocol_type;
  std::optional<std::string> protocol_name;
  std::string leader;
  bool skip_assignment = false;
  std::vector<Member> members;  // only for the leader

  static JoinResult failure(std::string member_id, ErrorCode error) {
    JoinResult r;
    r.member_id = std::move(member_id);
    r.error = error;
    return r;
  }
};

struct SyncResult {
  ErrorCode error = ErrorCode::kNone;
  std::optional<std::string> protocol_type;
  std::optional<std::string> protocol_name;
  Bytes assignment;
};

using JoinCallback = std::function<void(JoinResult)>;
using SyncCallback = std::function<void(SyncResult)>;

struct Member {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  int32_t rebalance_timeout_ms = 0;
  int32_t session_timeout_ms = 0;
  std::string protocol_type;
  std::vector<Protocol> protocols;  // in the member's order of preference
  Bytes assignment;
  // Set while the member's JoinGroup / SyncGroup waits for the rebalance to progress.
  JoinCallback awaiting_join;
  SyncCallback awaiting_sync;
  // Joined but not yet through a completed join: expires on its own (long) timer
  // even while awaiting the join.
  bool is_new = false;
  TimerId session_timer = 0;

  bool is_static() const { return group_instance_id.has_value(); }
  bool is_awaiting_join() const { return static_cast<bool>(awaiting_join); }
  bool is_awaiting_sync() const { return static_cast<bool>(awaiting_sync); }
  const Bytes* metadata_for(std::string_view protocol) const;
  // Same protocols with the same metadata, in the same order.
  bool matches(const std::vector<Protocol>& other) const { return protocols == other; }
  // The member's most preferred protocol among the candidates.
  std::string vote(const std::set<std::string>& candidates) const;
};

struct OffsetAndMetadata {
  int64_t offset = -1;
  int32_t leader_epoch = -1;
  std::string metadata;
  int64_t commit_timestamp = -1;
  int64_t expire_timestamp = -1;  // only from old (value v1) records
};

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;
  auto operator<=>(const TopicPartition&) const = default;
};

// A JoinGroup completion waiting on a timer: Kafka's DelayedJoin, or its
// InitialDelayedJoin (never completes early; extended while new members join).
struct JoinWait {
  TimerId timer = 0;
  bool initial = false;
  int32_t delay_ms = 0;
  int32_t remaining_ms = 0;
};

class Group {
 public:
  Group(std::string id, GroupState initial, int64_t now_ms)
      : id_(std::move(id)), state_(initial), state_timestamp_(now_ms) {}

  const std::string& id() const { return id_; }
  GroupState state() const { return state_; }
  bool is(GroupState s) const { return state_ == s; }
  int64_t state_timestamp() const { return state_timestamp_; }
  // Logs (never throws on) a transition Kafka would reject.
  void transition_to(GroupState next, int64_t now_ms);
  bool can_rebalance() const {
    return is(GroupState::kStable) || is(GroupState::kCompletingRebalance) || is(GroupState::kEmpty);
  }

  // Members.
  bool has(const std::string& member_id) const { return members_.contains(member_id); }
  Member* get(const std::string& member_id);
  const Member* get(const std::string& member_id) const;
  size_t size() const { return members_.size(); }
  const std::map<std::string, Member>& members() const { return members_; }
  std::vector<std::string> member_ids() const;
  std::optional<std::string> static_member_id(const std::string& instance_id) const;

  void add(Member member, JoinCallback callback);
  // Removes the member (leader moves to another member); callbacks are not invoked.
  void remove(const std::string& member_id);
  // Re-keys a static member under a new member id; its pending join/sync requests
  // are answered FENCED_INSTANCE_ID. Returns the member under its new id.
  Member& replace_static_member(const std::string& instance_id, const std::string& old_id, const std::string& new_id);
  // New protocols/timeouts and the pending JoinGroup (a superseded one is answered
  // REBALANCE_IN_PROGRESS so no request is left hanging).
  void update_member(Member& member, std::vector<Protocol> protocols, int32_t rebalance_timeout_ms,
                     int32_t session_timeout_ms, JoinCallback callback);
  bool invoke_join_callback(Member& member, JoinResult result);
  bool invoke_sync_callback(Member& member, SyncResult result);
  void set_sync_callback(Member& member, SyncCallback callback);

  bool has_all_members_joined() const { return members_.size() == awaiting_join_ && pending_members_.empty(); }
  size_t awaiting_join_count() const { return awaiting_join_; }
  std::vector<std::string> not_yet_rejoined_members() const;
  int32_t rebalance_timeout_ms() const;

  // Pending members (KIP-394): given a member id by MEMBER_ID_REQUIRED, not yet rejoined.
  bool is_pending_member(const std::string& member_id) const { return pending_members_.contains(member_id); }
  void add_pending_member(const std::string& member_id, TimerId timer) { pending_members_[member_id] = timer; }
  // Returns the member's expiration timer (0 if none) and forgets the member.
  TimerId remove_pending_member(const std::string& member_id);
  const std::map<std::string, TimerId>& pending_members() const { return pending_members_; }

  // Members expected to send SyncGroup in this generation.
  std::set<std::string>& pending_sync_members() { return pending_sync_members_; }

  // Protocols.
  const std::optional<std::string>& protocol_type() const { return protocol_type_; }
  const std::optional<std::string>& protocol_name() const { return protocol_name_; }
  bool is_consumer_group() const;
  bool supports_protocols(const std::string& protocol_type, const std::vector<Protocol>& protocols) const;
  // The protocol all members support with the most votes (ties: the leader's preference).
  std::string select_protocol() const;

  // Generations.
  int32_t generation() const { return generation_; }
  const std::optional<std::string>& leader_id() const { return leader_id_; }
  bool is_leader(const std::string& member_id) const { return leader_id_ == member_id; }
  bool maybe_elect_new_joined_leader();
  void init_next_generation(int64_t now_ms);
  std::vector<JoinResult::Member> current_member_metadata() const;

  // Topics the members subscribe to (consumer groups only; nullopt when unknown).
  const std::optional<std::set<std::string>>& subscribed_topics() const { return subscribed_topics_; }
  bool is_subscribed_to_topic(const std::string& topic) const {
    return !subscribed_topics_ || subscribed_topics_->contains(topic);
  }

  // State loaded from __consumer_offsets at startup.
  void load(int32_t generation, std::optional<std::string> protocol_type, std::optional<std::string> protocol_name,
            std::optional<std::string> leader, int64_t state_timestamp, std::vector<Member> members);

  // Offsets. Commits being written are counted in pending_offset_commits until durable.
  std::map<TopicPartition, OffsetAndMetadata> offsets;
  std::map<TopicPartition, int> pending_offset_commits;
  bool has_offsets() const { return !offsets.empty() || !pending_offset_commits.empty(); }

  // Timers the coordinator runs for this group.
  JoinWait join_wait;
  TimerId sync_timer = 0;
  bool new_member_added = false;  // extends the initial rebalance delay

 private:
  void add_protocols(const Member& member, int delta);
  std::optional<std::set<std::string>> compute_subscribed_topics() const;

  std::string id_;
  GroupState state_;
  int64_t state_timestamp_;
  int32_t generation_ = 0;
  std::optional<std::string> protocol_type_;
  std::optional<std::string> protocol_name_;
  std::optional<std::string> leader_id_;
  std::map<std::string, Member> members_;
  std::map<std::string, std::string> static_members_;  // instance id -> member id
  std::map<std::string, TimerId> pending_members_;     // member id -> expiration timer
  std::set<std::string> pending_sync_members_;
  std::map<std::string, int> supported_protocols_;     // protocol -> members supporting it
  size_t awaiting_join_ = 0;
  std::optional<std::set<std::string>> subscribed_topics_;
};

}  // namespace runnel::coordinator
