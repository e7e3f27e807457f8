#include "storage/log_maintenance.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "storage/log.h"
#include "storage/log_manager.h"

namespace runnel::storage {
namespace {
int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}
}  // namespace

LogMaintenance::LogMaintenance(LogManager& logs, MaintenanceOptions options) : logs_(logs), options_(options) {}

LogMaintenance::~LogMaintenance() { stop(); }

void LogMaintenance::start() {
  if (thread_.joinable()) return;
  logs_.producer_ids().set_on_reservation_needed([this] { wake(); });
  thread_ = std::thread([this] { run(); });
}

void LogMaintenance::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  logs_.producer_ids().set_on_reservation_needed(nullptr);
}

void LogMaintenance::wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

size_t LogMaintenance::run_retention(int64_t now_ms) {
  size_t removed = 0;
  for (const auto& log : logs_.all_logs()) removed += log->apply_retention(now_ms);
  if (removed > 0) {
    // The new log start offsets must survive a crash.
    if (auto ec = logs_.write_checkpoints()) spdlog::warn("checkpoint after retention failed: {}", ec.message());
  }
  return removed;
}

void LogMaintenance::run_due(int64_t now_ms) {
  if (logs_.producer_ids().reservation_needed()) (void)logs_.producer_ids().reserve_next_block();
  logs_.remove_deleted_dirs();
  const auto logs = logs_.all_logs();
  for (const auto& log : logs) log->delete_expired_files(now_ms);
  if (next_retention_ms_ < 0) next_retention_ms_ = now_ms + options_.retention_check_interval_ms;
  if (next_checkpoint_ms_ < 0) next_checkpoint_ms_ = now_ms + options_.checkpoint_interval_ms;
  if (next_expiration_ms_ < 0) next_expiration_ms_ = now_ms + options_.producer_expiration_check_ms;
  if (now_ms >= next_retention_ms_) {
    run_retention(now_ms);
    next_retention_ms_ = now_ms + options_.retention_check_interval_ms;
  }
  if (now_ms >= next_expiration_ms_) {
    size_t expired = 0;
    for (const auto& log : logs) expired += log->remove_expired_producers(now_ms, options_.producer_id_expiration_ms);
    if (expired > 0) spdlog::info("expired the state of {} idle producer(s)", expired);
    next_expiration_ms_ = now_ms + options_.producer_expiration_check_ms;
  }
  if (now_ms >= next_checkpoint_ms_) {
    if (auto ec = logs_.write_checkpoints()) spdlog::warn("periodic checkpoint failed: {}", ec.message());
    next_checkpoint_ms_ = now_ms + options_.checkpoint_interval_ms;
  }
}

void LogMaintenance::run() {
  for (;;) {
    try {
      run_due(wall_ms());
    } catch (const std::exception& e) {
      spdlog::error("storage maintenance failed: {}", e.what());
    }
    const int64_t sleep_ms = std::max<int64_t>(
        1, std::min({options_.tick_ms, options_.retention_check_interval_ms, options_.checkpoint_interval_ms}));
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(sleep_ms), [this] { return stopping_ || woken_; });
    if (stopping_) return;
    woken_ = false;
  }
}

}  // namespace runnel::storage
