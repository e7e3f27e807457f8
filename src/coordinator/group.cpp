#include "coordinator/group.h"

#include <algorithm>
#include <array>
#include <cctype>

#include <spdlog/spdlog.h>

#include "coordinator/consumer_protocol.h"

namespace runnel::coordinator {
namespace {

constexpr std::array<std::pair<GroupState, std::string_view>, 5> kStateNames = {{
    {GroupState::kEmpty, "Empty"},
    {GroupState::kPreparingRebalance, "PreparingRebalance"},
    {GroupState::kCompletingRebalance, "CompletingRebalance"},
    {GroupState::kStable, "Stable"},
    {GroupState::kDead, "Dead"},
}};

// Kafka's GroupState.validPreviousStates.
bool valid_transition(GroupState from, GroupState to) {
  switch (to) {
    case GroupState::kDead:
      return true;
    case GroupState::kCompletingRebalance:
      return from == GroupState::kPreparingRebalance;
    case GroupState::kStable:
      return from == GroupState::kCompletingRebalance;
    case GroupState::kPreparingRebalance:
      return from == GroupState::kStable || from == GroupState::kCompletingRebalance || from == GroupState::kEmpty;
    case GroupState::kEmpty:
      return from == GroupState::kPreparingRebalance;
  }
  return false;
}

}  // namespace

std::string_view group_state_name(GroupState state) {
  for (const auto& [s, name] : kStateNames) {
    if (s == state) return name;
  }
  return "Unknown";
}

std::optional<GroupState> parse_group_state(std::string_view name) {
  for (const auto& [s, known] : kStateNames) {
    if (known.size() == name.size() &&
        std::equal(known.begin(), known.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        })) {
      return s;
    }
  }
  return std::nullopt;
}

const Bytes* Member::metadata_for(std::string_view protocol) const {
  for (const auto& p : protocols) {
    if (p.name == protocol) return &p.metadata;
  }
  return nullptr;
}

std::string Member::vote(const std::set<std::string>& candidates) const {
  for (const auto& p : protocols) {
    if (candidates.contains(p.name)) return p.name;
  }
  return {};
}

void Group::transition_to(GroupState next, int64_t now_ms) {
  if (!valid_transition(state_, next)) {
    spdlog::error("group {}: unexpected transition {} -> {}", id_, group_state_name(state_), group_state_name(next));
  }
  state_ = next;
  state_timestamp_ = now_ms;
}

Member* Group::get(const std::string& member_id) {
  auto it = members_.find(member_id);
  return it == members_.end() ? nullptr : &it->second;
}

const Member* Group::get(const std::string& member_id) const {
  auto it = members_.find(member_id);
  return it == members_.end() ? nullptr : &it->second;
}

std::vector<std::string> Group::member_ids() const {
  std::vector<std::string> ids;
  ids.reserve(members_.size());
  for (const auto& [id, member] : members_) ids.push_back(id);
  return ids;
}

std::optional<std::string> Group::static_member_id(const std::string& instance_id) const {
  auto it = static_members_.find(instance_id);
  if (it == static_members_.end()) return std::nullopt;
  return it->second;
}

void Group::add_protocols(const Member& member, int delta) {
  for (const auto& p : member.protocols) {
    auto& count = supported_protocols_[p.name];
    count += delta;
    if (count <= 0) supported_protocols_.erase(p.name);
  }
}

void Group::add(Member member, JoinCallback callback) {
  if (members_.empty()) protocol_type_ = member.protocol_type;
  if (!leader_id_) leader_id_ = member.member_id;
  add_protocols(member, +1);
  if (callback) ++awaiting_join_;
  member.awaiting_join = std::move(callback);
  pending_members_.erase(member.member_id);
  if (member.group_instance_id) static_members_[*member.group_instance_id] = member.member_id;
  const std::string id = member.member_id;
  members_.insert_or_assign(id, std::move(member));
}

void Group::remove(const std::string& member_id) {
  auto it = members_.find(member_id);
  if (it != members_.end()) {
    add_protocols(it->second, -1);
    if (it->second.is_awaiting_join()) --awaiting_join_;
    if (const auto& instance = it->second.group_instance_id) {
      auto s = static_members_.find(*instance);
      if (s != static_members_.end() && s->second == member_id) static_members_.erase(s);
    }
    members_.erase(it);
  }
  if (leader_id_ == member_id) {
    leader_id_ = members_.empty() ? std::nullopt : std::optional<std::string>(members_.begin()->first);
  }
  pending_members_.erase(member_id);
  pending_sync_members_.erase(member_id);
}

Member& Group::replace_static_member(const std::string& instance_id, const std::string& old_id,
                                     const std::string& new_id) {
  auto node = members_.extract(old_id);
  Member& old_member = node.mapped();
  // Fence the old incarnation at once if it still waits on a join or sync.
  invoke_join_callback(old_member, JoinResult::failure(old_id, ErrorCode::kFencedInstanceId));
  invoke_sync_callback(old_member, SyncResult{ErrorCode::kFencedInstanceId, {}, {}, {}});
  old_member.member_id = new_id;
  node.key() = new_id;
  pending_sync_members_.erase(old_id);
  auto inserted = members_.insert(std::move(node));
  if (leader_id_ == old_id) leader_id_ = new_id;
  static_members_[instance_id] = new_id;
  return inserted.position->second;
}

void Group::update_member(Member& member, std::vector<Protocol> protocols, int32_t rebalance_timeout_ms,
                          int32_t session_timeout_ms, JoinCallback callback) {
  add_protocols(member, -1);
  member.protocols = std::move(protocols);
  add_protocols(member, +1);
  member.rebalance_timeout_ms = rebalance_timeout_ms;
  member.session_timeout_ms = session_timeout_ms;
  if (member.is_awaiting_join() && callback) {
    // A second JoinGroup while one is pending (the client gave up on the first).
    auto superseded = std::move(member.awaiting_join);
    member.awaiting_join = nullptr;
    superseded(JoinResult::failure(member.member_id, ErrorCode::kRebalanceInProgress));
  } else if (callback && !member.is_awaiting_join()) {
    ++awaiting_join_;
  } else if (!callback && member.is_awaiting_join()) {
    --awaiting_join_;
  }
  member.awaiting_join = std::move(callback);
}

bool Group::invoke_join_callback(Member& member, JoinResult result) {
  if (!member.is_awaiting_join()) return false;
  auto callback = std::move(member.awaiting_join);
  member.awaiting_join = nullptr;
  --awaiting_join_;
  callback(std::move(result));
  return true;
}

bool Group::invoke_sync_callback(Member& member, SyncResult result) {
  if (!member.is_awaiting_sync()) return false;
  auto callback = std::move(member.awaiting_sync);
  member.awaiting_sync = nullptr;
  callback(std::move(result));
  return true;
}

void Group::set_sync_callback(Member& member, SyncCallback callback) {
  if (member.is_awaiting_sync()) {
    auto superseded = std::move(member.awaiting_sync);
    superseded(SyncResult{ErrorCode::kRebalanceInProgress, {}, {}, {}});
  }
  member.awaiting_sync = std::move(callback);
}

std::vector<std::string> Group::not_yet_rejoined_members() const {
  std::vector<std::string> ids;
  for (const auto& [id, member] : members_) {
    if (!member.is_awaiting_join()) ids.push_back(id);
  }
  return ids;
}

int32_t Group::rebalance_timeout_ms() const {
  int32_t timeout = 0;
  for (const auto& [id, member] : members_) timeout = std::max(timeout, member.rebalance_timeout_ms);
  return timeout;
}

TimerId Group::remove_pending_member(const std::string& member_id) {
  auto it = pending_members_.find(member_id);
  if (it == pending_members_.end()) return 0;
  const TimerId timer = it->second;
  pending_members_.erase(it);
  return timer;
}

bool Group::is_consumer_group() const { return protocol_type_ == kConsumerProtocolType; }

bool Group::supports_protocols(const std::string& protocol_type, const std::vector<Protocol>& protocols) const {
  if (is(GroupState::kEmpty)) return !protocol_type.empty() && !protocols.empty();
  if (protocol_type_ != protocol_type) return false;
  return std::any_of(protocols.begin(), protocols.end(), [&](const Protocol& p) {
    auto it = supported_protocols_.find(p.name);
    const size_t count = it == supported_protocols_.end() ? 0 : static_cast<size_t>(it->second);
    return count == members_.size();
  });
}

std::string Group::select_protocol() const {
  std::set<std::string> candidates;
  for (const auto& [name, count] : supported_protocols_) {
    if (static_cast<size_t>(count) == members_.size()) candidates.insert(name);
  }
  std::map<std::string, int> votes;
  for (const auto& [id, member] : members_) {
    const auto vote = member.vote(candidates);
    if (!vote.empty()) ++votes[vote];
  }
  // Most votes wins; a tie goes to the protocol the leader prefers, so the choice
  // does not depend on map order.
  const Member* leader = leader_id_ ? get(*leader_id_) : nullptr;
  auto rank = [&](const std::string& name) {
    if (leader) {
      for (size_t i = 0; i < leader->protocols.size(); ++i) {
        if (leader->protocols[i].name == name) return i;
      }
    }
    return SIZE_MAX;
  };
  std::string best;
  int best_votes = 0;
  for (const auto& [name, count] : votes) {
    if (count > best_votes || (count == best_votes && rank(name) < rank(best))) {
      best = name;
      best_votes = count;
    }
  }
  return best;
}

bool Group::maybe_elect_new_joined_leader() {
  if (!leader_id_) return false;
  const Member* leader = get(*leader_id_);
  if (leader && leader->is_awaiting_join()) return true;
  for (const auto& [id, member] : members_) {
    if (member.is_awaiting_join()) {
      spdlog::info("group {}: new leader {} (the previous leader did not rejoin)", id_, id);
      leader_id_ = id;
      return true;
    }
  }
  return false;
}

void Group::init_next_generation(int64_t now_ms) {
  ++generation_;
  if (!members_.empty()) {
    protocol_name_ = select_protocol();
    subscribed_topics_ = compute_subscribed_topics();
    transition_to(GroupState::kCompletingRebalance, now_ms);
  } else {
    protocol_name_.reset();
    subscribed_topics_ = compute_subscribed_topics();
    transition_to(GroupState::kEmpty, now_ms);
  }
  pending_sync_members_.clear();
}

std::vector<JoinResult::Member> Group::current_member_metadata() const {
  std::vector<JoinResult::Member> result;
  if (!protocol_name_) return result;
  for (const auto& [id, member] : members_) {
    const Bytes* metadata = member.metadata_for(*protocol_name_);
    result.push_back({id, member.group_instance_id, metadata ? *metadata : Bytes{}});
  }
  return result;
}

std::optional<std::set<std::string>> Group::compute_subscribed_topics() const {
  if (!is_consumer_group()) return std::nullopt;
  if (members_.empty()) return std::set<std::string>{};
  if (!protocol_name_) return std::nullopt;
  std::set<std::string> topics;
  for (const auto& [id, member] : members_) {
    const Bytes* metadata = member.metadata_for(*protocol_name_);
    auto parsed = metadata ? parse_subscription_topics(*metadata) : std::nullopt;
    if (!parsed) {
      spdlog::warn("group {}: cannot parse the consumer subscription of member {}", id_, id);
      return std::nullopt;
    }
    topics.merge(*parsed);
  }
  return topics;
}

void Group::load(int32_t generation, std::optional<std::string> protocol_type,
                 std::optional<std::string> protocol_name, std::optional<std::string> leader,
                 int64_t state_timestamp, std::vector<Member> members) {
  generation_ = generation;
  for (auto& member : members) add(std::move(member), nullptr);
  // After add(), which would take the protocol type from the first member.
  protocol_type_ = std::move(protocol_type);
  protocol_name_ = std::move(protocol_name);
  leader_id_ = std::move(leader);
  if (leader_id_ && !has(*leader_id_)) {
    leader_id_ = members_.empty() ? std::nullopt : std::optional<std::string>(members_.begin()->first);
  }
  if (state_timestamp >= 0) state_timestamp_ = state_timestamp;
  subscribed_topics_ = compute_subscribed_topics();
}

}  // namespace runnel::coordinator
