#pragma once
// What request handlers share: the config, the event loop, storage and the
// wake-up registry. Owned by the Broker; handlers only borrow it.
#include <asio/io_context.hpp>

#include "common/config.h"
#include "coordinator/group_coordinator.h"
#include "server/broker_metrics.h"
#include "server/frame_buffer.h"
#include "server/partition_watchers.h"
#include "server/request_memory_pool.h"
#include "server/topic_registry.h"
#include "storage/flusher.h"

namespace runnel::server {

struct BrokerContext {
  const BrokerConfig& config;
  asio::io_context& io;
  TopicRegistry& topics;
  storage::Flusher& flusher;
  PartitionWatchers& watchers;
  coordinator::GroupCoordinator& groups;
  BrokerMetrics& metrics;
  RequestMemoryPool& request_memory;  // queued.max.request.bytes
  FrameBufferPool& frame_buffers;     // request buffers kept for reuse
};

}  // namespace runnel::server
