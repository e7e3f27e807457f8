#include "server/broker.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/use_awaitable.hpp>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <csignal>

#include "common/internal_topics.h"
#include "server/clock.h"
#include "server/controller_routing.h"
#include "server/metrics_page.h"
#include "server/tcp_listen.h"

namespace runnel::server {
namespace {

coordinator::GroupCoordinatorConfig group_config_from(const BrokerConfig& config) {
  coordinator::GroupCoordinatorConfig c;
  c.min_session_timeout_ms = config.group_min_session_timeout_ms;
  c.max_session_timeout_ms = config.group_max_session_timeout_ms;
  c.max_group_size = config.group_max_size;
  c.initial_rebalance_delay_ms = config.group_initial_rebalance_delay_ms;
  c.offsets_retention_ms = config.offsets_retention_ms;
  c.retention_check_interval_ms = config.offsets_retention_check_interval_ms;
  c.offset_metadata_max_bytes = config.offset_metadata_max_bytes;
  return c;
}

// max.connections sockets plus log segments need more descriptors than the usual
// soft limit of 1024: raise it to the hard limit, as servers commonly do.
void raise_file_limit(int32_t max_connections) {
  struct rlimit rl {};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max) return;
  rl.rlim_cur = rl.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  if (rl.rlim_cur < static_cast<rlim_t>(max_connections) + 1024)
    spdlog::warn("open file limit {} is below max.connections={} plus room for log files", rl.rlim_cur,
                 max_connections);
}

// A client that closes its socket while a fetch is sent with sendfile would
// otherwise kill the broker with SIGPIPE (socket sends use MSG_NOSIGNAL; sendfile
// has no such flag). The write then fails with EPIPE and only that connection closes.
void ignore_sigpipe() {
  struct sigaction action {};
  action.sa_handler = SIG_IGN;
  sigemptyset(&action.sa_mask);
  sigaction(SIGPIPE, &action, nullptr);
}

std::string join_listeners(const std::vector<Listener>& listeners) {
  std::string text;
  for (const auto& l : listeners) text += (text.empty() ? "" : ",") + l.to_string();
  return text;
}

}  // namespace

Broker::Broker(BrokerConfig config)
    : config_(std::move(config)),
      logs_(std::make_unique<storage::LogManager>()),
      resolver_(config_.explicit_settings),
      group_timers_(io_.get_executor()),
      request_memory_(config_.queued_max_request_bytes),
      signals_(io_, SIGINT, SIGTERM) {
  // Every log's high watermark is the replication layer's to move, also on a
  // single node (where it follows the fsynced end).
  logs_->set_hw_follows_flush(false);
  if (const auto ec = logs_->open(config_.log_dirs, {})) {
    throw std::runtime_error("cannot open log.dirs " + fmt::format("{}", fmt::join(config_.log_dirs, ",")) + ": " +
                             ec.message());
  }
  if (config_.log_journal_enable) {
    storage::JournalPolicy policy;
    policy.checkpoint_bytes = config_.log_journal_checkpoint_bytes;
    policy.checkpoint_interval_ms = config_.log_journal_checkpoint_interval_ms;
    policy.max_log_bytes = config_.log_journal_max_log_bytes;
    flusher_.use_journal(logs_->journal(), policy);
  }
  cluster_ = std::make_unique<cluster::ClusterNode>(io_.get_executor(), config_, *logs_, flusher_, resolver_);
  coordinator::OffsetsLog::Options offsets;
  offsets.commit_timeout_ms = config_.offsets_commit_timeout_ms;
  offsets.partition_count = [this] {
    const auto* topic = cluster_->image()->topic(kOffsetsTopic);
    return topic ? topic->partition_count() : config_.offsets_topic_num_partitions;
  };
  offsets.min_insync_replicas = [this] {
    const auto* topic = cluster_->image()->topic(kOffsetsTopic);
    return static_cast<int32_t>(resolver_.int_value(topic ? topic->configs : ConfigMap{}, "min.insync.replicas"));
  };
  offsets_log_ = std::make_unique<coordinator::OffsetsLog>(
      io_.get_executor(), [] { return wall_clock_ms(); },
      [this](int32_t partition) -> std::shared_ptr<replication::Partition> {
        auto replica = cluster_->replicas().get(kOffsetsTopic, partition);
        return replica && replica->is_leader() ? replica : nullptr;
      },
      offsets);
  groups_ = std::make_unique<coordinator::GroupCoordinator>(group_config_from(config_), group_timers_, *offsets_log_);
  context_ = std::make_unique<BrokerContext>(BrokerContext{config_, io_, *cluster_, resolver_, *logs_, flusher_, *groups_,
                                                           metrics_, request_memory_, frame_buffers_});
  raise_file_limit(config_.max_connections);
  ignore_sigpipe();
  for (const auto& listener : config_.listeners) {
    acceptors_.push_back(std::make_unique<Listening>(Listening{listen_on(io_, listener, "listeners"), listener.name}));
  }
  if (!config_.http_listeners.empty()) {
    http_ = std::make_unique<HttpServer>(io_, [this](const HttpRequest& r) { return handle_http_request(*context_, r); });
    http_->listen(config_.http_listeners);
  }
}

Broker::~Broker() = default;

void Broker::follow_offsets_partitions() {
  cluster_->replicas().on_role_change([this](const std::shared_ptr<replication::Partition>& partition,
                                             replication::Role before, replication::Role after) {
    if (partition->topic() != kOffsetsTopic) return;
    const int32_t p = partition->index();
    if (after == replication::Role::kLeader && before != replication::Role::kLeader) {
      const auto started = std::chrono::steady_clock::now();
      coordinator::ReplayStats stats;
      groups_->load_partition(p, [&](const std::function<void(const coordinator::LogRecord&)>& apply) {
        stats = coordinator::OffsetsLog::replay(*partition->log(), p, apply);
      });
      spdlog::info("{}-{}: now coordinating its groups ({} records from {} batches, {} skipped, in {} ms)",
                   kOffsetsTopic, p, stats.records, stats.batches, stats.skipped_batches,
                   std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started)
                       .count());
    } else if (before == replication::Role::kLeader && after != replication::Role::kLeader) {
      groups_->unload_partition(p);
      spdlog::info("{}-{}: no longer coordinating its groups", kOffsetsTopic, p);
    }
  });
}

asio::awaitable<void> Broker::start() {
  std::function<void()> before_hosting = [this] { follow_offsets_partitions(); };
  co_await cluster_->start(std::move(before_hosting));
  // A single node (local store) has all its brokers from the start: its groups
  // are ready before the first client. A cluster creates the topic on first
  // use, as Kafka does, once its brokers have joined (for the replication factor).
  if (config_.uses_local_metadata_store()) {
    const bool ready = co_await ensure_offsets_topic(*context_);
    if (!ready) spdlog::warn("{} could not be created at startup; retried on first use", kOffsetsTopic);
  }
  log_startup_banner();
  if (http_) http_->start();
  for (auto& listening : acceptors_) asio::co_spawn(io_, accept_loop(*listening), asio::detached);
  groups_->start();
  storage::MaintenanceOptions maintenance;
  maintenance.retention_check_interval_ms = config_.log_retention_check_interval_ms;
  maintenance.checkpoint_interval_ms = config_.log_flush_offset_checkpoint_interval_ms;
  maintenance.producer_id_expiration_ms = config_.producer_id_expiration_ms;
  maintenance.producer_expiration_check_ms = config_.producer_id_expiration_check_interval_ms;
  maintenance_ = std::make_unique<storage::LogMaintenance>(*logs_, maintenance);
  maintenance_->start();
  storage::LogCleanerOptions cleaner;
  cleaner.enabled = config_.log_cleaner_enable;
  cleaner.backoff_ms = config_.log_cleaner_backoff_ms;
  cleaner_ = std::make_unique<storage::LogCleaner>(*logs_, cleaner);
  cleaner_->start();
}

void Broker::run() {
  asio::co_spawn(io_, start(), [this](std::exception_ptr failure) {
    if (!failure) return;
    startup_failure_ = failure;
    io_.stop();
  });
  signals_.async_wait([this](const asio::error_code& ec, int signal) {
    if (ec) return;
    spdlog::info("received signal {}, shutting down", signal);
    shutdown();
  });
  io_.run();
  if (startup_failure_) {
    flusher_.stop();
    logs_->shutdown();
    std::rethrow_exception(startup_failure_);
  }
  // Background storage work stops first (a pass in progress aborts cleanly).
  if (cleaner_) cleaner_->stop();
  if (maintenance_) maintenance_->stop();
  flusher_.stop();
  logs_->shutdown();
  spdlog::info("shutdown complete");
}

void Broker::shutdown() {
  if (stopping_) return;
  stopping_ = true;
  asio::co_spawn(io_, stop(), asio::detached);
}

asio::awaitable<void> Broker::stop() {
  // Controlled shutdown: leadership moves to other in-sync replicas first, so
  // clients see only retriable errors; meanwhile this broker keeps serving.
  co_await cluster_->hand_over_leadership();
  groups_->shutdown();
  for (auto& listening : acceptors_) {
    asio::error_code ec;
    listening->acceptor.close(ec);
  }
  if (http_) http_->stop();
  // Drain: no new requests, but those in flight (an fsync wait, a long poll)
  // finish and are answered, for at most kDrainTimeout.
  auto connections = connections_;
  for (auto& [raw, weak] : connections) {
    if (auto connection = weak.lock()) connection->stop_reading();
  }
  constexpr auto kDrainTimeout = std::chrono::seconds(10);
  const auto deadline = std::chrono::steady_clock::now() + kDrainTimeout;
  asio::steady_timer pause(io_);
  while (!connections_.empty() && std::chrono::steady_clock::now() < deadline) {
    pause.expires_after(std::chrono::milliseconds(20));
    asio::error_code ec;
    co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  if (!connections_.empty()) spdlog::warn("{} connections still busy after draining; closing them", connections_.size());
  co_await cluster_->stop();
  io_.stop();
}

void Broker::log_startup_banner() const {
  // Bound addresses, so that port 0 shows the port the kernel chose.
  std::vector<std::string> kafka;
  for (const auto& listening : acceptors_) {
    asio::error_code ec;
    const auto endpoint = listening->acceptor.local_endpoint(ec);
    kafka.push_back(ec ? "?"
                       : fmt::format("{}://{}:{}", listening->listener, endpoint.address().to_string(), endpoint.port()));
  }
  std::vector<std::string> metrics;
  if (http_) {
    for (const auto& url : http_->urls()) metrics.push_back(url + "/metrics");
  }
  spdlog::info(
      "runnel {} started: node {} of cluster {} (metadata {}), kafka listeners {} (advertised {}), metrics {}, data in "
      "{}, config from {}",
      RUNNEL_VERSION, config_.node_id, cluster_->cluster_id(), cluster_->store().describe(), fmt::join(kafka, ","),
      join_listeners(config_.effective_advertised_listeners()),
      metrics.empty() ? std::string("off") : fmt::format("{}", fmt::join(metrics, ",")),
      fmt::join(config_.log_dirs, ","), config_.source);
}

asio::awaitable<void> Broker::accept_loop(Listening& listening) {
  auto& acceptor = listening.acceptor;
  while (!stopping_) {
    asio::error_code ec;
    auto socket = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (stopping_ || ec == asio::error::operation_aborted) break;
      // Out of file descriptors and the like: log, back off briefly, keep serving.
      spdlog::warn("accept failed: {}", ec.message());
      asio::steady_timer pause(io_, std::chrono::milliseconds(100));
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    if (static_cast<int32_t>(connections_.size()) >= config_.max_connections) {
      spdlog::warn("refusing connection: max.connections={} reached", config_.max_connections);
      socket.close(ec);
      continue;
    }
    auto connection = std::make_shared<Connection>(std::move(socket), *context_, listening.listener,
                                                   [this](Connection* closed) { connections_.erase(closed); });
    connections_.emplace(connection.get(), connection);
    connection->start();
  }
}

}  // namespace runnel::server
