#pragma once
// Makes this broker host what the metadata image assigns to it: for every
// partition with this broker among its replicas, the replica exists and leads or
// follows as the partition state says; replicas the image no longer assigns here
// (topic deleted, replica moved away) are removed with their logs; fetchers know
// where every broker's inter-broker listener is.
#include <functional>
#include <string>

#include "cluster/metadata_view.h"
#include "common/topic_config.h"
#include "replication/replica_manager.h"

namespace runnel::cluster {

class ReplicaReconciler {
 public:
  ReplicaReconciler(int32_t node_id, std::string inter_broker_listener, const TopicConfigResolver& resolver,
                    replication::ReplicaManager& replicas, storage::LogManager& logs,
                    std::function<int64_t()> broker_epoch);

  // Applies one image (the first one: every topic; later: the topics that changed).
  void apply(const ImagePtr& previous, const ImagePtr& current);
  // After the first image: logs on disk that the image does not assign here are removed.
  void remove_strays(const MetadataImage& image);
  // This broker registered again (new broker epoch): what it led it leads only
  // once the controller elected it anew.
  void reapply_all(const MetadataImage& image);

 private:
  void apply_topic(const MetadataImage& image, const TopicImage* topic, const std::string& name);

  const int32_t node_id_;
  const std::string inter_broker_listener_;
  const TopicConfigResolver& resolver_;
  replication::ReplicaManager& replicas_;
  storage::LogManager& logs_;
  std::function<int64_t()> broker_epoch_;
};

// The replication-facing part of a partition state.
replication::LeaderAndIsr to_leader_and_isr(const PartitionState& state);
PartitionState from_leader_and_isr(const replication::LeaderAndIsr& state);

}  // namespace runnel::cluster
