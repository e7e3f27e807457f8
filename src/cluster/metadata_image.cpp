#include "cluster/metadata_image.h"

namespace runnel::cluster {

const TopicImage* MetadataImage::topic(const std::string& name) const {
  auto it = topics.find(name);
  return it != topics.end() && it->second->exists() ? it->second.get() : nullptr;
}

const TopicImage* MetadataImage::topic(const Uuid& id) const {
  auto it = topic_names.find(id);
  return it == topic_names.end() ? nullptr : topic(it->second);
}

const PartitionEntry* MetadataImage::partition(const std::string& name, int32_t p) const {
  const TopicImage* t = topic(name);
  return t ? t->partition(p) : nullptr;
}

const BrokerRegistration* MetadataImage::broker(int32_t id) const {
  auto it = brokers.find(id);
  return it == brokers.end() ? nullptr : &it->second;
}

std::vector<const TopicImage*> MetadataImage::existing_topics() const {
  std::vector<const TopicImage*> out;
  for (const auto& [name, t] : topics)
    if (t->exists()) out.push_back(t.get());
  return out;
}

MetadataImageBuilder::MetadataImageBuilder(const MetadataKeys& keys, std::shared_ptr<const MetadataImage> base)
    : keys_(keys), image_(base ? std::make_shared<MetadataImage>(*base) : std::make_shared<MetadataImage>()) {}

TopicImage& MetadataImageBuilder::mutable_topic(const std::string& name) {
  auto& changed = changed_topics_[name];
  if (!changed) {
    auto it = image_->topics.find(name);
    changed = it != image_->topics.end() ? std::make_shared<TopicImage>(*it->second) : std::make_shared<TopicImage>();
    changed->name = name;
  }
  return *changed;
}

void MetadataImageBuilder::put(const KeyValue& kv) {
  using Kind = MetadataKeys::Parsed::Kind;
  const auto parsed = keys_.parse(kv.key);
  auto problem = [&](const char* what) { problems_.push_back(kv.key + ": " + what); };
  switch (parsed.kind) {
    case Kind::kClusterId:
      image_->cluster_id = kv.value;
      break;
    case Kind::kBroker:
      if (auto broker = decode_broker(kv.value); broker && broker->id == parsed.id) {
        broker->epoch = kv.create_revision;
        image_->brokers[parsed.id] = std::move(*broker);
      } else {
        problem("not a broker registration");
      }
      break;
    case Kind::kController:
      if (auto controller = decode_controller(kv.value)) {
        controller->mod_revision = kv.mod_revision;
        image_->controller = *controller;
      } else {
        problem("not a controller record");
      }
      break;
    case Kind::kControllerEpoch:
      if (auto epoch = decode_int(kv.value)) {
        image_->controller_epoch = *epoch;
        image_->controller_epoch_revision = kv.mod_revision;
      } else {
        problem("not a number");
      }
      break;
    case Kind::kProducerIdBlock:
      if (auto end = decode_int(kv.value)) {
        image_->producer_id_block = *end;
        image_->producer_id_block_revision = kv.mod_revision;
      } else {
        problem("not a number");
      }
      break;
    case Kind::kTopic:
      if (auto record = decode_topic(kv.value)) {
        auto& topic = mutable_topic(parsed.topic);
        topic.record = *record;
        topic.record_revision = kv.mod_revision;
        if (topic.partitions.size() < static_cast<size_t>(record->partitions))
          topic.partitions.resize(static_cast<size_t>(record->partitions));
      } else {
        problem("not a topic record");
      }
      break;
    case Kind::kConfig:
      if (auto configs = decode_configs(kv.value)) {
        auto& topic = mutable_topic(parsed.topic);
        topic.configs = std::move(*configs);
        topic.configs_revision = kv.mod_revision;
      } else {
        problem("not a config map");
      }
      break;
    case Kind::kPartition:
      if (auto state = decode_partition(kv.value)) {
        auto& topic = mutable_topic(parsed.topic);
        const auto index = static_cast<size_t>(parsed.id);
        if (topic.partitions.size() <= index) topic.partitions.resize(index + 1);
        topic.partitions[index] = PartitionEntry{std::move(*state), kv.mod_revision};
      } else {
        problem("not a partition state");
      }
      break;
    case Kind::kUnknown:
      break;  // another tool's key under our prefix: not ours to judge
  }
}

void MetadataImageBuilder::remove(const std::string& key) {
  using Kind = MetadataKeys::Parsed::Kind;
  const auto parsed = keys_.parse(key);
  switch (parsed.kind) {
    case Kind::kClusterId:
      image_->cluster_id.clear();
      break;
    case Kind::kBroker:
      image_->brokers.erase(parsed.id);
      break;
    case Kind::kController:
      image_->controller.reset();
      break;
    case Kind::kControllerEpoch:
      image_->controller_epoch = 0;
      image_->controller_epoch_revision = 0;
      break;
    case Kind::kProducerIdBlock:
      image_->producer_id_block = 0;
      image_->producer_id_block_revision = 0;
      break;
    case Kind::kTopic:
      mutable_topic(parsed.topic).record.reset();
      mutable_topic(parsed.topic).record_revision = 0;
      break;
    case Kind::kConfig:
      mutable_topic(parsed.topic).configs.clear();
      mutable_topic(parsed.topic).configs_revision = 0;
      break;
    case Kind::kPartition: {
      auto& topic = mutable_topic(parsed.topic);
      const auto index = static_cast<size_t>(parsed.id);
      if (index < topic.partitions.size()) topic.partitions[index].reset();
      break;
    }
    case Kind::kUnknown:
      break;
  }
}

void MetadataImageBuilder::apply(const WatchEvent& event) {
  if (event.type == WatchEvent::Type::kPut) {
    put(event.kv);
  } else {
    remove(event.kv.key);
  }
}

std::shared_ptr<const MetadataImage> MetadataImageBuilder::build(int64_t revision) {
  for (auto& [name, topic] : changed_topics_) {
    const auto old = image_->topics.find(name);
    if (old != image_->topics.end() && old->second->exists()) image_->topic_names.erase(old->second->id());
    // Trailing partitions beyond the record and without keys are dropped.
    const size_t count = topic->record ? static_cast<size_t>(topic->record->partitions) : 0;
    while (topic->partitions.size() > count && !topic->partitions.back()) topic->partitions.pop_back();
    const bool empty = !topic->record && topic->configs_revision == 0 && topic->partitions.empty();
    if (empty) {
      image_->topics.erase(name);
      continue;
    }
    if (topic->record) image_->topic_names[topic->record->id] = name;
    image_->topics[name] = std::move(topic);
  }
  changed_topics_.clear();
  image_->revision = std::max(image_->revision, revision);
  return std::move(image_);
}

std::shared_ptr<const MetadataImage> build_image(const MetadataKeys& keys, const GetResult& everything,
                                                 std::vector<std::string>* problems) {
  MetadataImageBuilder builder(keys, nullptr);
  for (const auto& kv : everything.kvs) builder.put(kv);
  if (problems) *problems = builder.problems();
  return builder.build(everything.revision);
}

}  // namespace runnel::cluster
