#include "server/broker.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/use_awaitable.hpp>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <csignal>

#include "server/clock.h"
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
      topics_(config_, *logs_),
      group_timers_(io_.get_executor()),
      offsets_log_(flusher_, io_.get_executor(), [] { return wall_clock_ms(); }),
      groups_(group_config_from(config_), group_timers_, offsets_log_),
      request_memory_(config_.queued_max_request_bytes),
      context_{config_, io_, topics_, flusher_, watchers_, groups_, metrics_, request_memory_, frame_buffers_},
      signals_(io_, SIGINT, SIGTERM) {
  if (const auto ec = logs_->open(config_.log_dirs, topics_.log_config({}))) {
    throw std::runtime_error("cannot open log.dirs " + fmt::format("{}", fmt::join(config_.log_dirs, ",")) + ": " +
                             ec.message());
  }
  topics_.load();
  load_groups();
  raise_file_limit(config_.max_connections);
  ignore_sigpipe();
  for (const auto& listener : config_.listeners) acceptors_.push_back(listen_on(io_, listener, "listeners"));
  if (!config_.http_listeners.empty()) {
    http_ = std::make_unique<HttpServer>(io_, [this](const HttpRequest& r) { return handle_http_request(context_, r); });
    http_->listen(config_.http_listeners);
  }
}

Broker::~Broker() = default;

void Broker::run() {
  log_startup_banner();
  if (http_) http_->start();
  for (auto& acceptor : acceptors_) {
    asio::co_spawn(io_, accept_loop(acceptor), asio::detached);
  }
  signals_.async_wait([this](const asio::error_code& ec, int signal) {
    if (ec) return;
    spdlog::info("received signal {}, shutting down", signal);
    shutdown();
  });
  groups_.start();
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
  io_.run();
  // Background storage work stops first (a pass in progress aborts cleanly).
  cleaner_->stop();
  maintenance_->stop();
  flusher_.stop();
  logs_->shutdown();
  spdlog::info("shutdown complete");
}

void Broker::shutdown() {
  if (stopping_) return;
  stopping_ = true;
  groups_.shutdown();
  for (auto& acceptor : acceptors_) {
    asio::error_code ec;
    acceptor.close(ec);
  }
  if (http_) http_->stop();
  // Drain: no new requests, but those in flight (an fsync wait, a long poll)
  // finish and are answered, for at most kDrainTimeout.
  auto connections = connections_;
  for (auto& [raw, weak] : connections) {
    if (auto connection = weak.lock()) connection->stop_reading();
  }
  asio::co_spawn(
      io_,
      [this]() -> asio::awaitable<void> {
        constexpr auto kDrainTimeout = std::chrono::seconds(10);
        const auto deadline = std::chrono::steady_clock::now() + kDrainTimeout;
        asio::steady_timer pause(io_);
        while (!connections_.empty() && std::chrono::steady_clock::now() < deadline) {
          pause.expires_after(std::chrono::milliseconds(20));
          asio::error_code ec;
          co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        }
        if (!connections_.empty()) spdlog::warn("{} connections still busy after draining; closing them", connections_.size());
        io_.stop();
      },
      asio::detached);
}

void Broker::load_groups() {
  // Kafka creates its offsets topic on first use; creating it at startup means
  // the coordinator is complete before the first client arrives. Compacted, as in
  // Kafka, with its 100 MiB segments; an existing topic keeps its partition count,
  // which decides where each group lives.
  using coordinator::kOffsetsTopic;
  if (!topics_.find(kOffsetsTopic)) {
    const auto result = topics_.create_topic(kOffsetsTopic, config_.offsets_topic_num_partitions,
                                             {{"cleanup.policy", "compact"}, {"segment.bytes", "104857600"}}, nullptr);
    if (!result.ok()) throw std::runtime_error(std::string("cannot create ") + kOffsetsTopic + ": " + result.message);
  }
  const auto info = topics_.find(kOffsetsTopic);
  if (!info) throw std::runtime_error(std::string("cannot open ") + kOffsetsTopic);
  std::vector<std::shared_ptr<storage::Log>> logs;
  for (int32_t p = 0; p < info->partitions; ++p) {
    auto log = topics_.log(kOffsetsTopic, p);
    if (!log) throw std::runtime_error(fmt::format("cannot open {}-{}", kOffsetsTopic, p));
    logs.push_back(std::move(log));
  }
  offsets_log_.open(logs);
  offsets_log_.set_on_durable([this](int32_t partition) { watchers_.notify(kOffsetsTopic, partition); });

  // Every group and offset is back in memory before the first request is served.
  const auto started = std::chrono::steady_clock::now();
  coordinator::ReplayStats total;
  for (int32_t p = 0; p < info->partitions; ++p) {
    const auto stats = coordinator::OffsetsLog::replay(*logs[static_cast<size_t>(p)], p,
                                                       [this](const coordinator::LogRecord& r) { groups_.replay(r); });
    total.batches += stats.batches;
    total.records += stats.records;
    total.skipped_batches += stats.skipped_batches;
  }
  groups_.finish_loading();
  spdlog::info("{}: replayed {} records from {} batches ({} skipped) of {} partitions in {} ms", kOffsetsTopic,
               total.records, total.batches, total.skipped_batches, info->partitions,
               std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count());
}

void Broker::log_startup_banner() const {
  // Bound addresses, so that port 0 shows the port the kernel chose.
  std::vector<std::string> kafka;
  for (const auto& acceptor : acceptors_) {
    asio::error_code ec;
    const auto endpoint = acceptor.local_endpoint(ec);
    kafka.push_back(ec ? "?" : fmt::format("PLAINTEXT://{}:{}", endpoint.address().to_string(), endpoint.port()));
  }
  std::vector<std::string> metrics;
  if (http_) {
    for (const auto& url : http_->urls()) metrics.push_back(url + "/metrics");
  }
  spdlog::info("runnel {} started: node {}, kafka listeners {} (advertised {}), metrics {}, data in {}, config from {}",
               RUNNEL_VERSION, config_.node_id, fmt::join(kafka, ","),
               join_listeners(config_.effective_advertised_listeners()),
               metrics.empty() ? std::string("off") : fmt::format("{}", fmt::join(metrics, ",")),
               fmt::join(config_.log_dirs, ","), config_.source);
}

asio::awaitable<void> Broker::accept_loop(asio::ip::tcp::acceptor& acceptor) {
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
    auto connection = std::make_shared<Connection>(std::move(socket), context_,
                                                   [this](Connection* closed) { connections_.erase(closed); });
    connections_.emplace(connection.get(), connection);
    connection->start();
  }
}

}  // namespace runnel::server
