#include "cluster/cluster_node.h"

#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cluster/meta_properties.h"
#include "cluster/single_node_import.h"
#include "cluster/store_await.h"
#include "cluster/store_factory.h"
#include "common/internal_topics.h"

namespace runnel::cluster {
namespace {

using Clock = std::chrono::steady_clock;

// The address outbound connections leave from: the inter-broker listener's, when
// it is a specific IP address (so multi-homed hosts use the interface the
// cluster is configured on).
std::string source_address_of(const BrokerConfig& config) {
  for (const auto& l : config.listeners) {
    if (l.name != config.inter_broker_listener()) continue;
    asio::error_code ec;
    const auto address = asio::ip::make_address(l.host, ec);
    if (!ec && !address.is_unspecified()) return l.host;
  }
  return {};
}

replication::ReplicationConfig replication_config(const BrokerConfig& c) {
  replication::ReplicationConfig r;
  r.node_id = c.node_id;
  r.replica_lag_time_max_ms = c.replica_lag_time_max_ms;
  r.num_replica_fetchers = c.num_replica_fetchers;
  r.replica_fetch_max_bytes = c.replica_fetch_max_bytes;
  r.replica_fetch_response_max_bytes = c.replica_fetch_response_max_bytes;
  r.replica_fetch_wait_max_ms = c.replica_fetch_wait_max_ms;
  r.replica_fetch_min_bytes = c.replica_fetch_min_bytes;
  r.replica_fetch_backoff_ms = c.replica_fetch_backoff_ms;
  r.replica_socket_timeout_ms = c.replica_socket_timeout_ms;
  r.inter_broker_listener = c.inter_broker_listener();
  r.source_address = source_address_of(c);
  return r;
}

ControllerConfig controller_config(const BrokerConfig& c) {
  ControllerConfig r;
  r.node_id = c.node_id;
  r.auto_leader_rebalance_enable = c.auto_leader_rebalance_enable;
  r.leader_imbalance_check_interval_ms = c.leader_imbalance_check_interval_ms;
  r.leader_imbalance_per_broker_percentage = c.leader_imbalance_per_broker_percentage;
  r.num_partitions = c.num_partitions;
  r.default_replication_factor = c.default_replication_factor;
  r.capped_topics = {kOffsetsTopic, kTransactionStateTopic};
  return r;
}

BrokerRegistration registration_of(const BrokerConfig& c, const std::string& incarnation) {
  BrokerRegistration r;
  r.id = c.node_id;
  r.rack = c.broker_rack;
  r.incarnation = incarnation;
  r.inter_broker_listener = c.inter_broker_listener();
  const auto& advertised = c.effective_advertised_listeners();
  for (const auto& l : advertised) {
    r.endpoints.push_back({l.name, l.host.empty() ? std::string("localhost") : l.host, l.port});
  }
  return r;
}

}  // namespace

ClusterNode::ClusterNode(asio::any_io_executor executor, const BrokerConfig& config, storage::LogManager& logs,
                         storage::Flusher& flusher, const TopicConfigResolver& resolver)
    : executor_(std::move(executor)),
      config_(config),
      logs_(logs),
      flusher_(flusher),
      resolver_(resolver),
      keys_(config.metadata_store_prefix) {
  StoreOptions options;
  options.request_timeout_ms = static_cast<int32_t>(std::min<int64_t>(config.broker_session_timeout_ms / 2, 5000));
  try {
    store_ = open_metadata_store(config.metadata_store, config.log_dirs.front(), executor_, options);
  } catch (const std::invalid_argument& e) {
    throw StartupError(e.what());
  }
  view_ = std::make_unique<MetadataView>(executor_, *store_, keys_);
  producer_ids_ = std::make_unique<ProducerIdAllocator>(*store_, keys_);
}

ClusterNode::~ClusterNode() {
  if (replicas_) replicas_->shutdown();
  if (peers_) peers_->close_all();
  if (channel_) channel_->close();
  if (view_) view_->stop();
}

asio::awaitable<void> ClusterNode::establish_cluster_id() {
  const auto stored = stored_cluster_id(config_.log_dirs);
  std::string id = view_->image()->cluster_id;
  if (id.empty()) {
    if (!config_.uses_local_metadata_store() && stored) {
      throw StartupError(fmt::format(
          "the metadata store {} (prefix {}) holds no cluster, but the data in {} belongs to cluster {}; refusing to "
          "start (was the store wiped, or is metadata.store.prefix wrong?)",
          store_->describe(), keys_.prefix(), config_.log_dirs.front(), *stored));
    }
    const std::string fresh = !config_.cluster_id.empty() ? config_.cluster_id : stored.value_or(Uuid::random().to_base64());
    Txn txn;
    txn.compares = {Compare::absent(keys_.cluster_id())};
    txn.success = {TxnOp::put(keys_.cluster_id(), fresh)};
    auto [status, result] = co_await co_txn(*store_, txn);
    if (!status.ok()) throw StartupError("cannot create the cluster id in the metadata store: " + status.message);
    if (result.succeeded && config_.uses_local_metadata_store()) {
      co_await import_single_node_data(*store_, keys_, logs_, config_.node_id, config_.log_dirs.front());
    }
    const auto reloaded = co_await view_->load(Clock::now() + std::chrono::milliseconds(config_.metadata_store_connect_timeout_ms));
    if (!reloaded.ok()) throw StartupError("cannot read the metadata store: " + reloaded.message);
    id = view_->image()->cluster_id;
    if (result.succeeded) spdlog::info("created cluster {}", id);
  }
  if (!config_.cluster_id.empty() && config_.cluster_id != id) {
    throw StartupError(fmt::format("cluster id mismatch: cluster.id is {}, but the metadata store holds cluster {}; refusing to start",
                                   config_.cluster_id, id));
  }
  cluster_id_ = id;
}

asio::awaitable<void> ClusterNode::start(std::function<void()> before_hosting) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(config_.metadata_store_connect_timeout_ms);
  const auto loaded = co_await view_->load(deadline);
  if (!loaded.ok()) {
    throw StartupError(fmt::format("cannot reach the metadata store at {} within {} ms: {}", store_->describe(),
                                   config_.metadata_store_connect_timeout_ms, loaded.message));
  }
  co_await establish_cluster_id();
  const std::string incarnation = check_and_write_meta_properties(config_.log_dirs, cluster_id_, config_.node_id);

  MembershipConfig membership;
  membership.registration = registration_of(config_, incarnation);
  membership.session_timeout_ms = config_.broker_session_timeout_ms;
  membership.heartbeat_interval_ms = config_.broker_heartbeat_interval_ms;
  membership_ = std::make_unique<Membership>(executor_, *store_, keys_, *view_, membership);
  controller_ = std::make_unique<Controller>(executor_, *store_, keys_, *view_, *membership_, resolver_,
                                             controller_config(config_));
  ControllerChannelConfig channel;
  channel.node_id = config_.node_id;
  channel.inter_broker_listener = config_.inter_broker_listener();
  channel.source_address = source_address_of(config_);
  channel.request_timeout_ms = 30000;
  channel_ = std::make_unique<ControllerChannel>(executor_, channel, *view_, *controller_, *membership_);
  replicas_ = std::make_unique<replication::ReplicaManager>(executor_, replication_config(config_), logs_, flusher_,
                                                            *channel_);
  reconciler_ = std::make_unique<ReplicaReconciler>(
      config_.node_id, config_.inter_broker_listener(), resolver_, *replicas_, logs_,
      [this] { return membership_->broker_epoch(); });

  peers_ = std::make_unique<BrokerClientPool>(executor_, config_.node_id, config_.inter_broker_listener(),
                                              source_address_of(config_), 30000);
  if (before_hosting) before_hosting();

  co_await membership_->register_broker(Clock::now() + std::chrono::milliseconds(config_.metadata_store_connect_timeout_ms));

  // From here on the image is followed; the first application hosts everything
  // assigned here, then what is on disk but assigned elsewhere goes.
  view_->subscribe([this](const ImagePtr& previous, const ImagePtr& current) { reconciler_->apply(previous, current); });
  membership_->on_session_change([this](bool) { reconciler_->reapply_all(*view_->image()); });
  reconciler_->apply(nullptr, view_->image());
  reconciler_->remove_strays(*view_->image());
  view_->start();
  membership_->start();
  replicas_->start();
  controller_->start();
  started_ = true;
  // Partitions this broker is in sync for get a current leader (a new election
  // after its restart) before the first client is served: a single node serves
  // at once instead of answering NOT_LEADER until its controller has acted.
  const int32_t me = config_.node_id;
  const std::function<bool(const MetadataImage&)> settled = [me](const MetadataImage& image) {
    for (const auto* topic : image.existing_topics()) {
      for (const auto& entry : topic->partitions) {
        if (!entry || std::find(entry->state.isr.begin(), entry->state.isr.end(), me) == entry->state.isr.end()) continue;
        const auto* leader = image.broker(entry->state.leader);
        if (!leader || leader->epoch != entry->state.leader_broker_epoch) return false;
      }
    }
    return true;
  };
  const auto bound = std::min<int64_t>(config_.broker_session_timeout_ms, 10000);
  const bool ready = co_await view_->wait_until(settled, Clock::now() + std::chrono::milliseconds(bound));
  if (!ready)
    spdlog::warn("some partitions this broker holds have no current leader yet; serving anyway");
}

asio::awaitable<void> ClusterNode::hand_over_leadership() {
  if (!started_ || !config_.controlled_shutdown_enable || !membership_->registered()) co_return;
  const bool announced = co_await membership_->announce_shutdown();
  if (!announced) co_return;
  const int32_t me = config_.node_id;
  // Done when no partition is led here while another in-sync replica could take over.
  const std::function<bool(const MetadataImage&)> handed_over = [me](const MetadataImage& image) {
    for (const auto* topic : image.existing_topics()) {
      for (const auto& entry : topic->partitions) {
        if (!entry || entry->state.leader != me) continue;
        for (int32_t r : entry->state.isr) {
          const auto* broker = image.broker(r);
          if (r != me && broker && !broker->shutting_down) return false;
        }
      }
    }
    return true;
  };
  const auto started = Clock::now();
  const bool done = co_await view_->wait_until(
      handed_over, started + std::chrono::milliseconds(config_.controlled_shutdown_timeout_ms));
  spdlog::info("controlled shutdown: leadership {} after {} ms", done ? "handed over" : "NOT fully handed over",
               std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count());
}

asio::awaitable<void> ClusterNode::stop() {
  if (!started_) co_return;
  started_ = false;
  co_await controller_->resign();
  replicas_->shutdown();
  co_await membership_->deregister();
  view_->stop();
  channel_->close();
  peers_->close_all();
}

}  // namespace runnel::cluster
