#pragma once
// Wakes long-polling fetches when a partition's high watermark moves, instead of
// polling. Lives on the event loop thread only.
#include <cstdint>
#include <list>
#include <string>
#include <unordered_map>

#include "server/async_event.h"

namespace runnel::server {

class PartitionWatchers {
 public:
  class Registration {
   public:
    Registration() = default;
    Registration(PartitionWatchers* owner, std::string key, std::list<AsyncEvent*>::iterator it)
        : owner_(owner), key_(std::move(key)), it_(it) {}
    Registration(Registration&& other) noexcept { *this = std::move(other); }
    Registration& operator=(Registration&& other) noexcept {
      reset();
      owner_ = other.owner_;
      key_ = std::move(other.key_);
      it_ = other.it_;
      other.owner_ = nullptr;
      return *this;
    }
    ~Registration() { reset(); }
    void reset() {
      if (owner_) owner_->remove(key_, it_);
      owner_ = nullptr;
    }

   private:
    PartitionWatchers* owner_ = nullptr;
    std::string key_;
    std::list<AsyncEvent*>::iterator it_;
  };

  static std::string key(const std::string& topic, int32_t partition) {
    return topic + '\0' + std::to_string(partition);
  }

  [[nodiscard]] Registration watch(const std::string& topic, int32_t partition, AsyncEvent* event) {
    auto k = key(topic, partition);
    auto& list = watchers_[k];
    auto it = list.insert(list.end(), event);
    return Registration(this, std::move(k), it);
  }

  void notify(const std::string& topic, int32_t partition) {
    auto found = watchers_.find(key(topic, partition));
    if (found == watchers_.end()) return;
    for (AsyncEvent* event : found->second) event->notify();
  }

 private:
  void remove(const std::string& k, std::list<AsyncEvent*>::iterator it) {
    auto found = watchers_.find(k);
    if (found == watchers_.end()) return;
    found->second.erase(it);
    if (found->second.empty()) watchers_.erase(found);
  }

  std::unordered_map<std::string, std::list<AsyncEvent*>> watchers_;
};

}  // namespace runnel::server
