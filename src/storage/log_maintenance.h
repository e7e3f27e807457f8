#pragma once
// The storage background thread (Kafka's kafka-log-retention / kafka-delete-logs
// / checkpoint scheduler tasks): retention every log.retention.check.interval.ms,
// unlinking of *.deleted files and deleted topic dirs, checkpoints every
// log.flush.offset.checkpoint.interval.ms (and right after retention moved a log
// start, so a kill -9 does not undo it), producer-id expiration and block
// reservation. All file work here stays off the event loop.
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

namespace runnel::storage {

class LogManager;

struct MaintenanceOptions {
  int64_t retention_check_interval_ms = 300000;  // log.retention.check.interval.ms
  int64_t checkpoint_interval_ms = 60000;        // log.flush.offset.checkpoint.interval.ms
  int64_t producer_id_expiration_ms = 86400000;  // producer.id.expiration.ms
  int64_t producer_expiration_check_ms = 600000; // producer.id.expiration.check.interval.ms
  int64_t tick_ms = 1000;                        // deleted files, dirs, id blocks
};

class LogMaintenance {
 public:
  LogMaintenance(LogManager& logs, MaintenanceOptions options);
  ~LogMaintenance();  // stop()
  LogMaintenance(const LogMaintenance&) = delete;
  LogMaintenance& operator=(const LogMaintenance&) = delete;

  void start();
  void stop();
  void wake();  // run a tick now (e.g. producer ids are running low)

  // One pass of each task whose time has come (tests call this with their own clock).
  void run_due(int64_t now_ms);
  // Retention over every log now; returns the number of segments removed.
  size_t run_retention(int64_t now_ms);

 private:
  void run();

  LogManager& logs_;
  const MaintenanceOptions options_;
  int64_t next_retention_ms_ = -1;
  int64_t next_checkpoint_ms_ = -1;
  int64_t next_expiration_ms_ = -1;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool woken_ = false;
  std::thread thread_;
};

}  // namespace runnel::storage
