#include "replication/partition.h"

#include <algorithm>
#include <chrono>

#include <spdlog/spdlog.h>

namespace runnel::replication {
namespace {

bool contains(const std::vector<int32_t>& list, int32_t id) {
  return std::find(list.begin(), list.end(), id) != list.end();
}

// After the controller refused a proposal, the metadata that explains why is on
// its way; proposing again at once would only repeat the refusal.
constexpr int64_t kRefusedProposalBackoffMs = 500;

int64_t wall_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t steady_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Partition::Partition(std::string topic, int32_t index, Uuid topic_id, std::shared_ptr<storage::Log> log,
                     PartitionHost& host)
    : topic_(std::move(topic)), index_(index), topic_id_(topic_id), log_(std::move(log)), host_(host) {
  durable_offset_ = log_->durable_offset();
}

Role Partition::apply_state(const LeaderAndIsr& state, int64_t now_ms) {
  if (stopped_) return role_;
  if (role_ != Role::kNone) {
    // The watch delivers states in order, but an AlterPartition answer may have
    // brought a newer one already: never go back.
    if (state.leader_epoch < state_.leader_epoch ||
        (state.leader_epoch == state_.leader_epoch && state.partition_epoch < state_.partition_epoch)) {
      return role_;
    }
  }
  const bool leadership_changed =
      role_ == Role::kNone || state.leader != state_.leader || state.leader_epoch != state_.leader_epoch;
  const bool epoch_moved = state.partition_epoch != state_.partition_epoch;
  state_ = state;
  if (leadership_changed) {
    pending_isr_.reset();
    if (state.leader == host_.node_id()) {
      become_leader(now_ms);
    } else {
      become_follower();
    }
  } else if (role_ == Role::kLeader) {
    if (epoch_moved) pending_isr_.reset();
    // Replicas added or removed by a reassignment.
    for (int32_t r : state_.replicas) {
      if (r != host_.node_id() && !followers_.count(r)) followers_[r] = FollowerState{};
    }
    for (auto it = followers_.begin(); it != followers_.end();) {
      it = contains(state_.replicas, it->first) ? std::next(it) : followers_.erase(it);
    }
    maybe_advance_high_watermark();
  }
  wake_all();
  return role_;
}

void Partition::become_leader(int64_t now_ms) {
  role_ = Role::kLeader;
  leader_epoch_start_offset_ = log_->log_end_offset();
  // As Kafka: the epoch starts at our log end now, before anything is appended
  // in it, so a follower's divergence is found from its first fetch.
  log_->assign_epoch_start_offset(state_.leader_epoch, leader_epoch_start_offset_);
  followers_.clear();
  for (int32_t r : state_.replicas) {
    if (r == host_.node_id()) continue;
    FollowerState follower;
    // ISR members get a full replica.lag.time.max.ms to show up.
    if (contains(state_.isr, r)) follower.last_caught_up_ms = now_ms;
    followers_[r] = follower;
  }
  durable_offset_ = std::max(durable_offset_, log_->durable_offset());
  spdlog::info("{}-{}: leader at epoch {} from offset {} (ISR {})", topic_, index_, state_.leader_epoch,
               leader_epoch_start_offset_, fmt::join(state_.isr, ","));
  maybe_advance_high_watermark();
}

void Partition::become_follower() {
  role_ = Role::kFollower;
  followers_.clear();
  spdlog::info("{}-{}: follower of {} at epoch {}", topic_, index_, state_.leader, state_.leader_epoch);
}

void Partition::stop() {
  stopped_ = true;
  role_ = Role::kNone;
  pending_isr_.reset();
  followers_.clear();
  wake_all();
}

void Partition::wake_all() {
  data_waiters_.notify();
  state_waiters_.notify();
}

std::vector<int32_t> Partition::maximal_isr() const {
  std::vector<int32_t> isr = state_.isr;
  if (pending_isr_) {
    for (int32_t r : *pending_isr_)
      if (!contains(isr, r)) isr.push_back(r);
  }
  return isr;
}

bool Partition::is_replica(int32_t broker_id) const { return contains(state_.replicas, broker_id); }

ErrorCode Partition::check_leader_epoch(int32_t current_leader_epoch) const {
  if (current_leader_epoch < 0 || current_leader_epoch == state_.leader_epoch) return ErrorCode::kNone;
  return current_leader_epoch < state_.leader_epoch ? ErrorCode::kFencedLeaderEpoch : ErrorCode::kUnknownLeaderEpoch;
}

ErrorCode Partition::check_produce(int16_t acks, int32_t min_insync_replicas) const {
  if (role_ != Role::kLeader) return ErrorCode::kNotLeaderOrFollower;
  if (acks == -1 && static_cast<int32_t>(state_.isr.size()) < min_insync_replicas) return ErrorCode::kNotEnoughReplicas;
  return ErrorCode::kNone;
}

storage::AppendResult Partition::append_as_leader(std::span<uint8_t> batches, int64_t now_ms) {
  auto result = log_->append(batches, state_.leader_epoch, now_ms);
  if (result.error == ErrorCode::kNone) {
    data_waiters_.notify();  // followers long-polling for data
    host_.request_flush(shared_from_this(), result.last_offset + 1);
  }
  return result;
}

std::optional<ErrorCode> Partition::replicated_status(int64_t end_offset, int32_t appended_epoch,
                                                      int32_t min_insync_replicas) const {
  if (role_ != Role::kLeader || state_.leader_epoch != appended_epoch) return ErrorCode::kNotLeaderOrFollower;
  if (high_watermark() >= end_offset) {
    return static_cast<int32_t>(state_.isr.size()) < min_insync_replicas ? ErrorCode::kNotEnoughReplicasAfterAppend
                                                                         : ErrorCode::kNone;
  }
  if (log_->failed()) return ErrorCode::kKafkaStorageError;
  return std::nullopt;
}

std::optional<ErrorCode> Partition::durable_status(int64_t end_offset, int32_t appended_epoch) const {
  if (role_ != Role::kLeader || state_.leader_epoch != appended_epoch) return ErrorCode::kNotLeaderOrFollower;
  if (durable_offset_ >= end_offset) return ErrorCode::kNone;
  if (log_->failed()) return ErrorCode::kKafkaStorageError;
  return std::nullopt;
}

std::optional<DivergingEpoch> Partition::check_divergence(int32_t last_fetched_epoch, int64_t fetch_offset) const {
  if (last_fetched_epoch < 0) return std::nullopt;
  const auto end = log_->end_offset_for_epoch(last_fetched_epoch);
  if (end.epoch < last_fetched_epoch || end.end_offset < fetch_offset) return DivergingEpoch{end.epoch, end.end_offset};
  return std::nullopt;
}

void Partition::record_follower_fetch(int32_t replica_id, int64_t fetch_offset, int64_t log_start_offset,
                                      int64_t now_ms) {
  auto it = followers_.find(replica_id);
  if (role_ != Role::kLeader || it == followers_.end()) return;
  FollowerState& f = it->second;
  const int64_t leader_end = log_->log_end_offset();
  // Kafka's Replica.updateFetchState: caught up now, or caught up to where we
  // were at its previous fetch (so a steady stream does not look like lag).
  if (fetch_offset >= leader_end) {
    f.last_caught_up_ms = std::max(f.last_caught_up_ms, now_ms);
  } else if (f.last_fetch_leader_end_offset >= 0 && fetch_offset >= f.last_fetch_leader_end_offset) {
    f.last_caught_up_ms = std::max(f.last_caught_up_ms, f.last_fetch_ms);
  }
  f.last_fetch_leader_end_offset = leader_end;
  f.last_fetch_ms = now_ms;
  f.log_end_offset = fetch_offset;
  f.log_start_offset = log_start_offset;
  maybe_expand_isr(replica_id);
  maybe_advance_high_watermark();
}

void Partition::maybe_advance_high_watermark() {
  if (role_ != Role::kLeader) return;
  // Only over what is fsynced here and what every ISR member (including any
  // being added) holds.
  int64_t hw = std::min(durable_offset_, log_->log_end_offset());
  for (int32_t r : maximal_isr()) {
    if (r == host_.node_id()) continue;
    auto it = followers_.find(r);
    if (it == followers_.end() || it->second.log_end_offset < 0) return;
    hw = std::min(hw, it->second.log_end_offset);
  }
  if (hw <= log_->high_watermark()) return;
  log_->set_high_watermark(hw);
  wake_all();  // acks=all produces, consumers, and followers learning the new HW
  host_.on_high_watermark(*this);
}

void Partition::maybe_expand_isr(int32_t replica_id) {
  if (pending_isr_ || contains(state_.isr, replica_id) || steady_now_ms() < next_proposal_ms_) return;
  const auto& f = followers_.at(replica_id);
  // In sync: it holds everything up to our HW and has reached this epoch.
  if (f.log_end_offset < log_->high_watermark() || f.log_end_offset < leader_epoch_start_offset_) return;
  auto isr = state_.isr;
  isr.push_back(replica_id);
  spdlog::info("{}-{}: replica {} caught up (offset {}); proposing ISR {}", topic_, index_, replica_id,
               f.log_end_offset, fmt::join(isr, ","));
  propose(std::move(isr));
}

void Partition::maybe_shrink_isr(int64_t now_ms) {
  if (role_ != Role::kLeader || pending_isr_ || now_ms < next_proposal_ms_) return;
  std::vector<int32_t> keep;
  std::vector<int32_t> lagging;
  for (int32_t r : state_.isr) {
    auto it = followers_.find(r);
    const bool out = r != host_.node_id() && it != followers_.end() &&
                     now_ms - it->second.last_caught_up_ms > host_.replica_lag_time_max_ms();
    (out ? lagging : keep).push_back(r);
  }
  if (lagging.empty()) return;
  spdlog::info("{}-{}: replicas {} out of sync (not caught up for {} ms); proposing ISR {}", topic_, index_,
               fmt::join(lagging, ","), host_.replica_lag_time_max_ms(), fmt::join(keep, ","));
  propose(std::move(keep));
}

void Partition::propose(std::vector<int32_t> isr) {
  pending_isr_ = isr;
  host_.propose_isr(shared_from_this(), std::move(isr));
}

void Partition::isr_change_done(const std::optional<LeaderAndIsr>& committed) {
  if (committed) {
    const size_t before = state_.isr.size();
    pending_isr_.reset();
    apply_state(*committed, steady_now_ms());
    if (committed->isr.size() < before) ++isr_shrinks_;
    if (committed->isr.size() > before) ++isr_expands_;
  } else {
    pending_isr_.reset();
    next_proposal_ms_ = steady_now_ms() + kRefusedProposalBackoffMs;
    maybe_advance_high_watermark();
  }
}

ErrorCode Partition::append_from_leader(std::span<uint8_t> batches, int64_t leader_high_watermark,
                                        int64_t leader_log_start) {
  if (role_ != Role::kFollower) return ErrorCode::kNotLeaderOrFollower;
  if (!batches.empty()) {
    const auto result = log_->append_as_follower(batches, wall_now_ms());
    if (result.error != ErrorCode::kNone) return result.error;
    if (result.last_offset >= 0) host_.request_flush(shared_from_this(), result.last_offset + 1);
    data_waiters_.notify();
  }
  update_follower_high_watermark(leader_high_watermark, leader_log_start);
  return ErrorCode::kNone;
}

void Partition::update_follower_high_watermark(int64_t leader_high_watermark, int64_t leader_log_start) {
  if (role_ != Role::kFollower) return;
  if (leader_log_start > log_->log_start_offset()) log_->maybe_increment_log_start_offset(leader_log_start);
  const int64_t hw = std::min(leader_high_watermark, log_->log_end_offset());
  if (hw > log_->high_watermark()) {
    log_->set_high_watermark(hw);
    state_waiters_.notify();  // consumers reading from this follower (KIP-392)
    host_.on_high_watermark(*this);
  }
}

void Partition::truncate_on_divergence(const DivergingEpoch& diverging) {
  const int64_t end = log_->log_end_offset();
  int64_t target = end;
  if (diverging.epoch < 0 || diverging.end_offset < 0) {
    target = std::min(end, log_->high_watermark());
  } else {
    // Kafka's follower: truncate to the end of the epoch both sides have; if we do
    // not have the leader's epoch, to the end of our largest epoch below it (the
    // next fetch narrows it further).
    const auto own = log_->end_offset_for_epoch(diverging.epoch);
    if (own.epoch < 0) {
      target = std::min(diverging.end_offset, end);
    } else if (own.epoch == diverging.epoch) {
      target = std::min({own.end_offset, diverging.end_offset, end});
    } else {
      target = std::min(own.end_offset, end);
    }
  }
  if (target >= end) return;
  if (target < log_->high_watermark())
    spdlog::warn("{}-{}: truncating below the high watermark {} to {}", topic_, index_, log_->high_watermark(), target);
  spdlog::info("{}-{}: truncating to offset {} (was {}): leader {} reports epoch {} ending at {}", topic_, index_,
               target, end, state_.leader, diverging.epoch, diverging.end_offset);
  log_->truncate_to(target);
  durable_offset_ = std::min(durable_offset_, target);
  wake_all();
}

void Partition::restart_at(int64_t leader_log_start) {
  spdlog::info("{}-{}: our log ends before the leader's log start {}; starting over there", topic_, index_,
               leader_log_start);
  log_->truncate_fully_and_start_at(leader_log_start);
  durable_offset_ = leader_log_start;
  wake_all();
}

void Partition::on_durable(int64_t durable_offset) {
  if (durable_offset <= durable_offset_) return;
  durable_offset_ = durable_offset;
  if (role_ == Role::kLeader) maybe_advance_high_watermark();
  state_waiters_.notify();
}

}  // namespace runnel::replication
