#pragma once
// Producer ids for InitProducerId, unique across the cluster: each broker takes
// blocks of ids from one counter in the metadata store (a compare-and-swap, as
// Kafka's controller hands out blocks), so no id is ever given twice, even after
// crashes (a crash only skips the rest of a block).
#include <cstdint>
#include <optional>

#include <asio/awaitable.hpp>

#include "cluster/metadata_records.h"
#include "cluster/metadata_store.h"
#include "common/async_mutex.h"

namespace runnel::cluster {

class ProducerIdAllocator {
 public:
  static constexpr int64_t kBlockSize = 1000;

  ProducerIdAllocator(MetadataStore& store, const MetadataKeys& keys) : store_(store), keys_(keys) {}

  // nullopt when the store could not be reached (the caller answers with a retriable error).
  asio::awaitable<std::optional<int64_t>> allocate();

 private:
  asio::awaitable<bool> take_block();

  MetadataStore& store_;
  const MetadataKeys& keys_;
  AsyncMutex mutex_;
  int64_t next_ = 0;
  int64_t end_ = 0;  // exclusive
};

}  // namespace runnel::cluster
