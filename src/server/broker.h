#pragma once
// The single-node broker: listeners, connections, storage and the flusher,
// all driven by one event loop; fsync runs on the flusher's own thread.
#include <memory>
#include <unordered_map>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/signal_set.hpp>

#include "common/config.h"
#include "coordinator/asio_timer_service.h"
#include "coordinator/group_coordinator.h"
#include "coordinator/offsets_log.h"
#include "server/broker_context.h"
#include "server/connection.h"
#include "server/http_server.h"
#include "server/partition_watchers.h"
#include "server/topic_registry.h"
#include "storage/flusher.h"
#include "storage/log_cleaner.h"
#include "storage/log_maintenance.h"
#include "storage/log_manager.h"

namespace runnel::server {

class Broker {
 public:
  explicit Broker(BrokerConfig config);
  ~Broker();

  // Serves until SIGTERM/SIGINT, then shuts down cleanly.
  void run();

 private:
  asio::awaitable<void> accept_loop(asio::ip::tcp::acceptor& acceptor);
  void shutdown();
  // One line: version, node, listeners as bound, metrics URL, data dirs, config source.
  void log_startup_banner() const;
  // Creates __consumer_offsets if missing and replays it into the group coordinator.
  void load_groups();

  BrokerConfig config_;
  asio::io_context io_{1};
  std::unique_ptr<storage::LogManager> logs_;
  storage::Flusher flusher_;
  TopicRegistry topics_;
  PartitionWatchers watchers_;
  coordinator::AsioTimerService group_timers_;
  coordinator::OffsetsLog offsets_log_;
  coordinator::GroupCoordinator groups_;
  BrokerMetrics metrics_;
  RequestMemoryPool request_memory_;
  // 16 MiB: a produce pipeline of 1 MiB requests reuses its buffers.
  FrameBufferPool frame_buffers_{16u << 20};
  BrokerContext context_;
  std::vector<asio::ip::tcp::acceptor> acceptors_;
  asio::signal_set signals_;
  // The HTTP listener(s) for /metrics (http.listeners); none when that is empty.
  std::unique_ptr<HttpServer> http_;
  std::unordered_map<Connection*, std::weak_ptr<Connection>> connections_;
  bool stopping_ = false;
  // Storage background threads (retention, checkpoints, compaction): off the event loop.
  std::unique_ptr<storage::LogMaintenance> maintenance_;
  std::unique_ptr<storage::LogCleaner> cleaner_;
};

}  // namespace runnel::server
