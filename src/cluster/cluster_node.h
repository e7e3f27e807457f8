#pragma once
// This broker as a member of its cluster: the metadata store (local or etcd), the
// image kept current from it, its registration, its share in controller
// elections, the way to the controller, and the replicas it hosts. A single node
// is a cluster of one over the local store, through this same code.
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>

#include "cluster/broker_client_pool.h"
#include "cluster/controller.h"
#include "cluster/controller_channel.h"
#include "cluster/membership.h"
#include "cluster/metadata_store.h"
#include "cluster/metadata_view.h"
#include "cluster/producer_id_allocator.h"
#include "cluster/replica_reconciler.h"
#include "common/config.h"
#include "common/topic_config.h"
#include "replication/replica_manager.h"
#include "storage/flusher.h"
#include "storage/log_manager.h"

namespace runnel::cluster {

class ClusterNode {
 public:
  ClusterNode(asio::any_io_executor executor, const BrokerConfig& config, storage::LogManager& logs,
              storage::Flusher& flusher, const TopicConfigResolver& resolver);
  ~ClusterNode();

  // Reads the metadata, checks the cluster identity, registers, and starts
  // hosting what the image assigns here. Throws StartupError with the one-line
  // message to print (store unreachable, duplicate node id, cluster-id mismatch).
  // `before_hosting` runs once the replica manager exists and before any
  // replica is hosted (to follow role changes from the first one on).
  asio::awaitable<void> start(std::function<void()> before_hosting = {});
  // Controlled shutdown: asks the controller to move this broker's leaderships
  // away and waits (bounded) until they have moved.
  asio::awaitable<void> hand_over_leadership();
  // Resigns as controller and ends the registration.
  asio::awaitable<void> stop();

  const std::string& cluster_id() const { return cluster_id_; }
  const MetadataKeys& keys() const { return keys_; }
  MetadataStore& store() { return *store_; }
  MetadataView& view() { return *view_; }
  const ImagePtr& image() const { return view_->image(); }
  Membership& membership() { return *membership_; }
  Controller& controller() { return *controller_; }
  ControllerChannel& controller_channel() { return *channel_; }
  replication::ReplicaManager& replicas() { return *replicas_; }
  ProducerIdAllocator& producer_ids() { return *producer_ids_; }
  // Connections to the other brokers, for requests answered on their behalf.
  BrokerClientPool& peers() { return *peers_; }

 private:
  asio::awaitable<void> establish_cluster_id();

  asio::any_io_executor executor_;
  const BrokerConfig& config_;
  storage::LogManager& logs_;
  storage::Flusher& flusher_;
  const TopicConfigResolver& resolver_;
  MetadataKeys keys_;
  std::unique_ptr<MetadataStore> store_;
  std::unique_ptr<MetadataView> view_;
  std::unique_ptr<Membership> membership_;
  std::unique_ptr<Controller> controller_;
  std::unique_ptr<ControllerChannel> channel_;
  std::unique_ptr<replication::ReplicaManager> replicas_;
  std::unique_ptr<ReplicaReconciler> reconciler_;
  std::unique_ptr<ProducerIdAllocator> producer_ids_;
  std::unique_ptr<BrokerClientPool> peers_;
  std::string cluster_id_;
  bool started_ = false;
};

}  // namespace runnel::cluster
