#pragma once
// The controller: one broker at a time, elected through the metadata store (its
// record is bound to its session, and the election is a transaction on the
// controller epoch). Every write it makes is a transaction conditioned on its
// own controller record still being the one it created, so a deposed controller
// (paused past its session, cut off) cannot overwrite a newer decision; and each
// partition change is also conditioned on that partition's revision.
//
// It decides: topic creation and deletion, added partitions and configs, replica
// placement, leader elections when brokers come and go (from the ISR, preferring
// the preferred replica; unclean only where the topic allows it), controlled
// shutdown, ISR changes proposed by leaders (AlterPartition), preferred-leader
// rebalancing and reassignments. Operations run one at a time, each on an image
// that already contains every earlier write of this controller.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/steady_timer.hpp>

#include "cluster/membership.h"
#include "cluster/metadata_store.h"
#include "cluster/metadata_view.h"
#include "cluster/partition_changes.h"
#include "common/admin_result.h"
#include "common/async_event.h"
#include "common/async_mutex.h"
#include "common/topic_config.h"

namespace runnel::cluster {

struct ControllerConfig {
  int32_t node_id = 0;
  bool auto_leader_rebalance_enable = true;             // auto.leader.rebalance.enable
  int64_t leader_imbalance_check_interval_ms = 300000;  // leader.imbalance.check.interval.seconds
  int32_t leader_imbalance_per_broker_percentage = 10;  // leader.imbalance.per.broker.percentage
  int32_t num_partitions = 1;                           // num.partitions
  int16_t default_replication_factor = 1;               // default.replication.factor
  // Internal topics whose replication factor is capped to the live brokers at creation.
  std::vector<std::string> capped_topics;
};

struct NewTopic {
  std::string name;
  int32_t partitions = -1;          // -1: num.partitions
  int16_t replication_factor = -1;  // -1: default.replication.factor
  std::vector<std::vector<int32_t>> assignments;  // explicit replicas per partition (then both above are -1)
  ConfigMap configs;
};

struct CreatedTopic {
  AdminResult result;
  Uuid id;
  int32_t partitions = -1;
  int16_t replication_factor = -1;
};

struct PartitionRef {
  std::string topic;
  int32_t partition = 0;
};

struct IsrChange {
  PartitionRef partition;
  Uuid topic_id;  // zero: by name
  IsrChangeRequest request;
};

struct Reassignment {
  PartitionRef partition;
  std::optional<std::vector<int32_t>> target;  // nullopt: cancel
};

class Controller {
 public:
  Controller(asio::any_io_executor executor, MetadataStore& store, const MetadataKeys& keys, MetadataView& view,
             Membership& membership, const TopicConfigResolver& resolver, ControllerConfig config);
  ~Controller();

  void start();
  // Steps down: deletes the controller record if it is still ours.
  asio::awaitable<void> resign();

  bool active() const { return active_; }
  int64_t epoch() const { return epoch_; }
  uint64_t elections_won() const { return elections_won_; }
  uint64_t leader_elections() const { return leader_elections_; }

  // Admin operations. When this broker is not (or no longer) the controller,
  // every result is NOT_CONTROLLER.
  asio::awaitable<std::vector<CreatedTopic>> create_topics(std::vector<NewTopic> topics, bool validate_only);
  asio::awaitable<std::vector<AdminResult>> delete_topics(const std::vector<std::string>& names);
  asio::awaitable<AdminResult> create_partitions(const std::string& topic, int32_t total,
                                                 const std::vector<std::vector<int32_t>>& assignments,
                                                 bool validate_only);
  // Replaces a topic's config overrides (already validated by the caller).
  asio::awaitable<AdminResult> set_topic_configs(const std::string& topic, const ConfigMap& configs);
  // AlterPartition from a leader: one result per change, in order.
  asio::awaitable<std::vector<IsrChangeResult>> change_isr(const std::vector<IsrChange>& changes);
  // ElectLeaders: preferred (type 0) or unclean (type 1); all partitions when nullopt.
  asio::awaitable<std::vector<std::pair<PartitionRef, AdminResult>>> elect_leaders(
      int8_t type, const std::optional<std::vector<PartitionRef>>& partitions);
  asio::awaitable<std::vector<AdminResult>> reassign(const std::vector<Reassignment>& reassignments);

 private:
  struct PartitionWrite {
    std::string topic;
    int32_t partition = 0;
    PartitionState state;
    int64_t expected_revision = 0;  // 0: the key must not exist yet
  };
  struct WriteOutcome {
    StoreStatus status;
    bool succeeded = false;  // all compares held
    int64_t revision = 0;
  };

  asio::awaitable<void> campaign_loop();
  asio::awaitable<bool> campaign();
  asio::awaitable<void> duty_loop();
  void on_image(const ImagePtr& previous, const ImagePtr& current);
  void step_down(const char* why);
  // Waits for exclusivity and an image with our writes; nullptr when not active.
  asio::awaitable<ImagePtr> begin(AsyncMutex::Guard& guard);
  // One transaction fenced by our controller record; step down if the fence failed.
  asio::awaitable<WriteOutcome> commit(std::vector<Compare> compares, std::vector<TxnOp> ops);
  // Partition states in transactions of at most kMaxOpsPerTxn.
  asio::awaitable<WriteOutcome> commit_partitions(const std::vector<PartitionWrite>& writes);
  asio::awaitable<void> reconcile(const MetadataImage& image, bool all_topics);
  asio::awaitable<void> rebalance_leaders(const MetadataImage& image);

  BrokerLiveness liveness(const MetadataImage& image) const;
  bool unclean_allowed(const TopicImage& topic) const;
  std::vector<std::vector<int32_t>> place(const MetadataImage& image, int32_t first, int32_t count,
                                          int32_t replication_factor) const;
  PartitionState initial_state(const MetadataImage& image, std::vector<int32_t> replicas) const;

  asio::any_io_executor executor_;
  MetadataStore& store_;
  const MetadataKeys& keys_;
  MetadataView& view_;
  Membership& membership_;
  const TopicConfigResolver& resolver_;
  ControllerConfig config_;

  bool active_ = false;
  bool stopping_ = false;
  int64_t epoch_ = 0;
  int64_t record_revision_ = 0;      // mod revision of our controller record: the fence
  int64_t last_write_revision_ = 0;  // the image must reach it before the next decision
  AsyncMutex mutex_;
  AsyncEvent image_changed_;
  AsyncEvent duty_needed_;
  bool reconcile_all_ = true;     // brokers changed, or just elected: look at every partition
  std::vector<std::string> changed_topics_;
  ImagePtr reconciled_;
  asio::steady_timer rebalance_timer_;
  uint64_t elections_won_ = 0;
  uint64_t leader_elections_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace runnel::cluster
