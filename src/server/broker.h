#pragma once
// A broker: its listeners and connections, its storage and flusher, its place in
// the cluster (ClusterNode) and its group coordinator, all driven by one event
// loop; fsync and storage maintenance run on their own threads. A thin wiring
// object: state lives in the part that owns it.
#include <memory>
#include <unordered_map>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/signal_set.hpp>

#include "cluster/cluster_node.h"
#include "common/config.h"
#include "common/topic_config.h"
#include "coordinator/asio_timer_service.h"
#include "coordinator/group_coordinator.h"
#include "coordinator/offsets_log.h"
#include "server/broker_context.h"
#include "server/connection.h"
#include "server/http_server.h"
#include "storage/flusher.h"
#include "storage/log_cleaner.h"
#include "storage/log_maintenance.h"
#include "storage/log_manager.h"

namespace runnel::server {

class Broker {
 public:
  explicit Broker(BrokerConfig config);
  ~Broker();

  // Joins the cluster, serves until SIGTERM/SIGINT, then shuts down cleanly.
  // Throws cluster::StartupError (one line) when it cannot start.
  void run();

 private:
  struct Listening {
    asio::ip::tcp::acceptor acceptor;
    std::string listener;  // its name, e.g. PLAINTEXT
  };
  asio::awaitable<void> start();
  asio::awaitable<void> accept_loop(Listening& listening);
  void shutdown();
  asio::awaitable<void> stop();
  // One line: version, node, cluster, listeners as bound, metrics URL, data dirs, config source.
  void log_startup_banner() const;
  // The group coordinator follows the leadership of __consumer_offsets partitions.
  void follow_offsets_partitions();

  BrokerConfig config_;
  asio::io_context io_{1};
  std::unique_ptr<storage::LogManager> logs_;
  storage::Flusher flusher_{1 << 16, config_.log_flush_threads};
  TopicConfigResolver resolver_;
  std::unique_ptr<cluster::ClusterNode> cluster_;
  coordinator::AsioTimerService group_timers_;
  std::unique_ptr<coordinator::OffsetsLog> offsets_log_;
  std::unique_ptr<coordinator::GroupCoordinator> groups_;
  BrokerMetrics metrics_;
  RequestMemoryPool request_memory_;
  // 16 MiB: a produce pipeline of 1 MiB requests reuses its buffers.
  FrameBufferPool frame_buffers_{16u << 20};
  std::unique_ptr<BrokerContext> context_;
  std::vector<std::unique_ptr<Listening>> acceptors_;
  asio::signal_set signals_;
  // The HTTP listener(s) for /metrics (http.listeners); none when that is empty.
  std::unique_ptr<HttpServer> http_;
  std::unordered_map<Connection*, std::weak_ptr<Connection>> connections_;
  bool stopping_ = false;
  std::exception_ptr startup_failure_;
  // Storage background threads (retention, checkpoints, compaction): off the event loop.
  std::unique_ptr<storage::LogMaintenance> maintenance_;
  std::unique_ptr<storage::LogCleaner> cleaner_;
};

}  // namespace runnel::server
