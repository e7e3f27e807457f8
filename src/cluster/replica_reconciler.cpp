#include "cluster/replica_reconciler.h"

#include <algorithm>
#include <set>

#include <spdlog/spdlog.h>

#include "cluster/topic_log_config.h"

namespace runnel::cluster {
namespace {

bool contains(const std::vector<int32_t>& list, int32_t id) {
  return std::find(list.begin(), list.end(), id) != list.end();
}

}  // namespace

replication::LeaderAndIsr to_leader_and_isr(const PartitionState& state) {
  return {state.replicas, state.isr, state.leader, state.leader_epoch, state.partition_epoch};
}

PartitionState from_leader_and_isr(const replication::LeaderAndIsr& state) {
  PartitionState out;
  out.replicas = state.replicas;
  out.isr = state.isr;
  out.leader = state.leader;
  out.leader_epoch = state.leader_epoch;
  out.partition_epoch = state.partition_epoch;
  return out;
}

ReplicaReconciler::ReplicaReconciler(int32_t node_id, std::string inter_broker_listener,
                                     const TopicConfigResolver& resolver, replication::ReplicaManager& replicas,
                                     storage::LogManager& logs, std::function<int64_t()> broker_epoch)
    : node_id_(node_id),
      inter_broker_listener_(std::move(inter_broker_listener)),
      resolver_(resolver),
      replicas_(replicas),
      logs_(logs),
      broker_epoch_(std::move(broker_epoch)) {}

void ReplicaReconciler::reapply_all(const MetadataImage& image) {
  for (const auto& [name, topic] : image.topics) apply_topic(image, topic->exists() ? topic.get() : nullptr, name);
}

void ReplicaReconciler::apply(const ImagePtr& previous, const ImagePtr& current) {
  if (!previous || previous->brokers != current->brokers) {
    std::map<int32_t, replication::BrokerAddress> addresses;
    for (const auto& [id, broker] : current->brokers) {
      const BrokerEndpoint* e = broker.endpoint(inter_broker_listener_);
      if (!e && !broker.endpoints.empty()) e = &broker.endpoints.front();
      if (e) addresses[id] = {e->host, e->port};
    }
    replicas_.set_broker_addresses(std::move(addresses));
  }
  const bool everything = !previous || previous->revision == 0;
  for (const auto& [name, topic] : current->topics) {
    if (!everything) {
      auto it = previous->topics.find(name);
      if (it != previous->topics.end() && it->second == topic) continue;
    }
    apply_topic(*current, topic->exists() ? topic.get() : nullptr, name);
  }
  if (previous) {
    for (const auto& [name, topic] : previous->topics) {
      if (!current->topics.count(name)) apply_topic(*current, nullptr, name);
    }
  }
}

void ReplicaReconciler::apply_topic(const MetadataImage&, const TopicImage* topic, const std::string& name) {
  // Hosted partitions of this name that the topic no longer assigns here.
  std::vector<int32_t> hosted;
  for (const auto& p : replicas_.partitions())
    if (p->topic() == name) hosted.push_back(p->index());
  for (int32_t index : hosted) {
    const PartitionEntry* entry = topic ? topic->partition(index) : nullptr;
    const bool keep = entry && contains(entry->state.replicas, node_id_) &&
                      replicas_.get(name, index)->topic_id() == topic->id();
    // A partition whose state is not written yet keeps its replica for now.
    const bool unknown_yet = topic && !entry && index < topic->partition_count();
    if (!keep && !unknown_yet) replicas_.remove_partition(name, index, /*delete_log=*/true);
  }
  if (!topic) return;
  const auto log_config = topic_log_config(resolver_, topic->configs);
  for (int32_t p = 0; p < topic->partition_count(); ++p) {
    const PartitionEntry* entry = topic->partition(p);
    if (!entry || !contains(entry->state.replicas, node_id_)) continue;
    auto state = to_leader_and_isr(entry->state);
    // Elected under an earlier registration of ours (before a restart or a lost
    // session): not ours to lead until the controller elects us again.
    if (state.leader == node_id_ && entry->state.leader_broker_epoch != broker_epoch_()) state.leader = -1;
    replicas_.ensure_partition(name, p, topic->id(), log_config, state);
  }
}

void ReplicaReconciler::remove_strays(const MetadataImage& image) {
  for (const auto& local : logs_.partitions()) {
    const TopicImage* topic = image.topic(local.topic);
    const PartitionEntry* entry = topic ? topic->partition(local.partition) : nullptr;
    const bool assigned = topic && topic->id() == local.topic_id && entry && contains(entry->state.replicas, node_id_);
    const bool pending = topic && topic->id() == local.topic_id && !entry && local.partition < topic->partition_count();
    if (assigned || pending) continue;
    spdlog::info("{}-{}: not assigned to this broker by the metadata ({}); removing the stray replica", local.topic,
                 local.partition, topic ? "replica moved or topic re-created" : "topic deleted");
    replicas_.remove_partition(local.topic, local.partition, /*delete_log=*/true);
    logs_.remove_log(local.topic, local.partition);
  }
}

}  // namespace runnel::cluster
