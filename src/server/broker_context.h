#pragma once
// What request handlers share: the config, the event loop, this broker's place
// in the cluster (metadata image, replicas, controller), storage for what is
// local to this broker, and the coordinators. Owned by the Broker; handlers only
// borrow it.
#include <asio/io_context.hpp>

#include "cluster/cluster_node.h"
#include "common/config.h"
#include "common/topic_config.h"
#include "coordinator/group_coordinator.h"
#include "server/broker_metrics.h"
#include "server/frame_buffer.h"
#include "server/request_memory_pool.h"
#include "storage/flusher.h"
#include "storage/log_manager.h"

namespace runnel::server {

struct BrokerContext {
  const BrokerConfig& config;
  asio::io_context& io;
  cluster::ClusterNode& cluster;
  const TopicConfigResolver& resolver;
  storage::LogManager& logs;  // the replicas on this broker's disks (DescribeLogDirs, checkpoints)
  storage::Flusher& flusher;
  coordinator::GroupCoordinator& groups;
  BrokerMetrics& metrics;
  RequestMemoryPool& request_memory;  // queued.max.request.bytes
  FrameBufferPool& frame_buffers;     // request buffers kept for reuse
};

}  // namespace runnel::server
