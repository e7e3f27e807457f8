#pragma once
// One replica of one partition hosted by this broker: its log plus Kafka's
// leader/follower state. As leader it stamps its epoch into appended batches,
// tracks every follower's log end offset, advances the high watermark to the
// minimum over the ISR (never past what is fsynced here) and proposes ISR changes
// to the controller; as follower it appends what the leader sends with the
// leader's offsets and epochs, and truncates to the divergence point a new leader
// reports. Runs on the broker's event loop only (the log has its own lock for the
// background threads).
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/async_event.h"
#include "replication/leader_and_isr.h"
#include "common/error_code.h"
#include "common/uuid.h"
#include "storage/log.h"

namespace runnel::replication {

class Partition;

// What a partition needs from the broker around it (the ReplicaManager).
class PartitionHost {
 public:
  virtual ~PartitionHost() = default;
  virtual int32_t node_id() const = 0;
  virtual int64_t replica_lag_time_max_ms() const = 0;
  // fsync up to `offset` in the background; Partition::on_durable follows on the loop.
  virtual void request_flush(const std::shared_ptr<Partition>& partition, int64_t offset) = 0;
  // Sends the leader's proposed ISR to the controller (AlterPartition).
  virtual void propose_isr(const std::shared_ptr<Partition>& partition, std::vector<int32_t> isr) = 0;
  // The partition's high watermark or leadership changed (metrics, coordinator hooks).
  virtual void on_high_watermark(Partition&) {}
};

enum class Role { kNone, kLeader, kFollower };

// Wakes coroutines waiting on a partition. Registration lives as long as the waiter.
class PartitionWaiters {
 public:
  class Registration {
   public:
    Registration() = default;
    Registration(std::list<AsyncEvent*>* list, std::list<AsyncEvent*>::iterator it) : list_(list), it_(it) {}
    Registration(Registration&& other) noexcept { *this = std::move(other); }
    Registration& operator=(Registration&& other) noexcept {
      reset();
      list_ = std::exchange(other.list_, nullptr);
      it_ = other.it_;
      return *this;
    }
    ~Registration() { reset(); }
    void reset() {
      if (list_) list_->erase(it_);
      list_ = nullptr;
    }

   private:
    std::list<AsyncEvent*>* list_ = nullptr;
    std::list<AsyncEvent*>::iterator it_;
  };

  [[nodiscard]] Registration add(AsyncEvent* event) {
    return Registration(&events_, events_.insert(events_.end(), event));
  }
  void notify() {
    for (AsyncEvent* e : events_) e->notify();
  }

 private:
  std::list<AsyncEvent*> events_;
};

struct DivergingEpoch {
  int32_t epoch = -1;
  int64_t end_offset = -1;
};

// The leader's view of one follower (Kafka's Replica).
struct FollowerState {
  int64_t log_end_offset = -1;  // what it has (its last fetch offset); -1: unknown
  int64_t log_start_offset = -1;
  int64_t last_caught_up_ms = 0;
  int64_t last_fetch_ms = 0;
  int64_t last_fetch_leader_end_offset = -1;
  int64_t last_sent_high_watermark = -1;
};

class Partition : public std::enable_shared_from_this<Partition> {
 public:
  Partition(std::string topic, int32_t index, Uuid topic_id, std::shared_ptr<storage::Log> log, PartitionHost& host);

  const std::string& topic() const { return topic_; }
  int32_t index() const { return index_; }
  const Uuid& topic_id() const { return topic_id_; }
  const std::shared_ptr<storage::Log>& log() const { return log_; }

  // ---- state from the metadata image
  // Applies the partition's state; becomes leader or follower when the leader or
  // its epoch changed. Returns the role afterwards.
  Role apply_state(const LeaderAndIsr& state, int64_t now_ms);
  // Stops serving (removed from this broker, or the broker stops): waiters wake.
  void stop();
  Role role() const { return role_; }
  bool is_leader() const { return role_ == Role::kLeader; }
  int32_t leader_id() const { return state_.leader; }
  int32_t leader_epoch() const { return state_.leader_epoch; }
  const LeaderAndIsr& state() const { return state_; }
  const std::vector<int32_t>& isr() const { return state_.isr; }  // as committed by the controller
  // The ISR the high watermark waits for: committed plus any member being added.
  std::vector<int32_t> maximal_isr() const;
  bool under_replicated() const { return is_leader() && state_.isr.size() < state_.replicas.size(); }

  // FENCED_LEADER_EPOCH for an older epoch, UNKNOWN_LEADER_EPOCH for a newer one (-1: unchecked).
  ErrorCode check_leader_epoch(int32_t current_leader_epoch) const;

  // ---- leader: produce
  // NOT_LEADER_OR_FOLLOWER, or NOT_ENOUGH_REPLICAS for acks=all with a short ISR.
  ErrorCode check_produce(int16_t acks, int32_t min_insync_replicas) const;
  storage::AppendResult append_as_leader(std::span<uint8_t> batches, int64_t now_ms);
  // For a waiting acks=all produce: kNone once `end_offset` is below the HW
  // (NOT_ENOUGH_REPLICAS_AFTER_APPEND if the ISR shrank under min.insync.replicas
  // meanwhile), NOT_LEADER_OR_FOLLOWER once leadership moved (even if it came
  // back: the appended batch may have been truncated); nullopt while waiting.
  std::optional<ErrorCode> replicated_status(int64_t end_offset, int32_t appended_epoch,
                                             int32_t min_insync_replicas) const;
  // For acks=1: the append is fsynced here (or leadership moved).
  std::optional<ErrorCode> durable_status(int64_t end_offset, int32_t appended_epoch) const;

  // ---- leader: fetch
  // For a follower's fetch: the diverging epoch when its log does not match ours
  // at fetch_offset (KIP-595), else nullopt.
  std::optional<DivergingEpoch> check_divergence(int32_t last_fetched_epoch, int64_t fetch_offset) const;
  // A follower fetched at fetch_offset: its progress, then maybe a higher HW and
  // an ISR expansion. Only for replicas of this partition.
  void record_follower_fetch(int32_t replica_id, int64_t fetch_offset, int64_t log_start_offset, int64_t now_ms);
  bool is_replica(int32_t broker_id) const;
  // The high watermark a fetch response told this follower (so a newer one is news).
  void note_high_watermark_sent(int32_t replica_id, int64_t high_watermark) {
    auto it = followers_.find(replica_id);
    if (it != followers_.end()) it->second.last_sent_high_watermark = high_watermark;
  }
  const std::map<int32_t, FollowerState>& followers() const { return followers_; }
  // Periodic: proposes to drop followers that have not caught up within
  // replica.lag.time.max.ms.
  void maybe_shrink_isr(int64_t now_ms);
  // The controller answered our ISR proposal (or refused it: nullopt state).
  void isr_change_done(const std::optional<LeaderAndIsr>& committed);
  bool isr_change_pending() const { return pending_isr_.has_value(); }
  const std::vector<int32_t>& pending_isr() const { return *pending_isr_; }

  // ---- follower
  // Appends batches fetched from the leader; updates HW and log start from the response.
  ErrorCode append_from_leader(std::span<uint8_t> batches, int64_t leader_high_watermark, int64_t leader_log_start);
  void update_follower_high_watermark(int64_t leader_high_watermark, int64_t leader_log_start);
  // The leader reported a diverging epoch: truncate as Kafka's follower does.
  void truncate_on_divergence(const DivergingEpoch& diverging);
  // Our fetch offset is below the leader's log start: start over there.
  void restart_at(int64_t leader_log_start);

  // ---- both
  int64_t high_watermark() const { return log_->high_watermark(); }
  int64_t log_end_offset() const { return log_->log_end_offset(); }
  int64_t log_start_offset() const { return log_->log_start_offset(); }
  // fsync reached `durable_offset`: the leader's HW may move.
  void on_durable(int64_t durable_offset);

  // Woken on appends and on every state change (follower fetches).
  PartitionWaiters& data_waiters() { return data_waiters_; }
  // Woken on HW, durability and leadership changes (produce acks, consumer fetches).
  PartitionWaiters& state_waiters() { return state_waiters_; }

  // Counters for metrics.
  uint64_t isr_shrinks() const { return isr_shrinks_; }
  uint64_t isr_expands() const { return isr_expands_; }

 private:
  void become_leader(int64_t now_ms);
  void become_follower();
  void maybe_advance_high_watermark();
  void maybe_expand_isr(int32_t replica_id);
  void propose(std::vector<int32_t> isr);
  void wake_all();

  const std::string topic_;
  const int32_t index_;
  const Uuid topic_id_;
  std::shared_ptr<storage::Log> log_;
  PartitionHost& host_;

  Role role_ = Role::kNone;
  bool stopped_ = false;
  LeaderAndIsr state_;
  int64_t leader_epoch_start_offset_ = 0;  // our log end when this epoch began (leader)
  std::map<int32_t, FollowerState> followers_;
  std::optional<std::vector<int32_t>> pending_isr_;  // proposed, not yet committed
  int64_t next_proposal_ms_ = 0;  // after a refusal, wait a little before proposing again
  int64_t durable_offset_ = 0;
  PartitionWaiters data_waiters_;
  PartitionWaiters state_waiters_;
  uint64_t isr_shrinks_ = 0;
  uint64_t isr_expands_ = 0;
};

}  // namespace runnel::replication
