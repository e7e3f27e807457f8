#pragma once
// The metadata image: one immutable snapshot of everything under the cluster's
// prefix in the metadata store, as of one store revision. Every broker builds the
// same image from the store and keeps it current with a watch; handlers, the
// replica manager and the controller read images, never the store. A new image
// shares every topic that did not change with the previous one, so a change to
// one partition copies one topic, not the cluster.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cluster/metadata_records.h"
#include "cluster/metadata_store.h"
#include "common/topic_config.h"
#include "common/uuid.h"

namespace runnel::cluster {

struct PartitionEntry {
  PartitionState state;
  int64_t mod_revision = 0;  // of its key: the compare of the next change
};

struct TopicImage {
  std::string name;
  std::optional<TopicRecord> record;  // absent while only stray partition/config keys exist
  int64_t record_revision = 0;
  ConfigMap configs;
  int64_t configs_revision = 0;  // 0: no configs key
  // Index = partition id; size = the record's partition count (or more, for
  // stray keys). A partition whose key is not written yet is nullopt: offline.
  std::vector<std::optional<PartitionEntry>> partitions;

  bool exists() const { return record.has_value(); }
  int32_t partition_count() const { return record ? record->partitions : 0; }
  const Uuid& id() const { return record->id; }
  const PartitionEntry* partition(int32_t p) const {
    if (p < 0 || p >= partition_count() || static_cast<size_t>(p) >= partitions.size()) return nullptr;
    return partitions[static_cast<size_t>(p)] ? &*partitions[static_cast<size_t>(p)] : nullptr;
  }
};

struct MetadataImage {
  int64_t revision = 0;  // the store revision this image reflects
  std::string cluster_id;
  std::map<int32_t, BrokerRegistration> brokers;  // registered, i.e. alive
  std::optional<ControllerRecord> controller;
  int64_t controller_epoch = 0;           // the counter key's value
  int64_t controller_epoch_revision = 0;  // its mod revision (0: absent)
  int64_t producer_id_block = 0;
  int64_t producer_id_block_revision = 0;
  // Every topic key seen, including entries without a record (see TopicImage).
  std::map<std::string, std::shared_ptr<const TopicImage>> topics;
  std::map<Uuid, std::string> topic_names;  // topic id -> name, existing topics only

  // Existing topics only.
  const TopicImage* topic(const std::string& name) const;
  const TopicImage* topic(const Uuid& id) const;
  const PartitionEntry* partition(const std::string& topic, int32_t p) const;
  const BrokerRegistration* broker(int32_t id) const;
  bool alive(int32_t broker_id) const { return brokers.count(broker_id) > 0; }
  int32_t controller_id() const { return controller ? controller->broker_id : -1; }
  // Existing topics in name order.
  std::vector<const TopicImage*> existing_topics() const;
};

// Applies store key-values or watch events to a base image and builds the next one.
class MetadataImageBuilder {
 public:
  MetadataImageBuilder(const MetadataKeys& keys, std::shared_ptr<const MetadataImage> base);

  void put(const KeyValue& kv);
  void remove(const std::string& key);
  void apply(const WatchEvent& event);
  // Keys that did not decode, for logging ("what and why").
  const std::vector<std::string>& problems() const { return problems_; }

  std::shared_ptr<const MetadataImage> build(int64_t revision);

 private:
  TopicImage& mutable_topic(const std::string& name);

  const MetadataKeys& keys_;
  std::shared_ptr<MetadataImage> image_;
  std::map<std::string, std::shared_ptr<TopicImage>> changed_topics_;
  std::vector<std::string> problems_;
};

// The image of a full read of the prefix (a `get` at one revision).
std::shared_ptr<const MetadataImage> build_image(const MetadataKeys& keys, const GetResult& everything,
                                                 std::vector<std::string>* problems = nullptr);

}  // namespace runnel::cluster
