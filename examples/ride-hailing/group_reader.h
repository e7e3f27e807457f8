// One consumer-group member reading driver locations at its own pace. It
// commits what it has processed, and checks that each driver's updates arrive
// in order (they share a key, so a partition, so an order).
#pragma once

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace ride {

struct ReaderOptions {
  std::string brokers;
  std::string topic;
  std::string group;
  double max_events_per_second = 0;  // 0: as fast as it can
  bool replay_from_beginning = false;  // first assignment starts at the log start, whatever was committed
};

class GroupReader {
 public:
  explicit GroupReader(ReaderOptions options);
  ~GroupReader();
  bool start();
  // Commits what was processed, leaves the group, and stops the thread.
  void stop();
  const std::string& group() const { return options_.group; }
  const std::string& error() const { return error_; }
  long events() const { return events_; }
  long order_violations() const { return violations_; }
  size_t drivers_seen() const;
  bool joined() const { return joined_; }

 private:
  static void OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions,
                          void* opaque);
  void run();
  void check_order(const rd_kafka_message_t* message);

  ReaderOptions options_;
  rd_kafka_t* rk_ = nullptr;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> joined_{false};
  std::atomic<long> events_{0};
  std::atomic<long> violations_{0};
  bool replayed_ = false;
  bool closed_ = false;
  mutable std::mutex mu_;
  std::map<std::string, long> last_seq_;  // (run, driver) -> last seq seen
  std::string error_;
};

}  // namespace ride
