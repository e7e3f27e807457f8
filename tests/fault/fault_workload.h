// The load a fault test runs while it breaks things: idempotent acks=all
// producers writing keyed records with per-key sequence numbers (record_value.h)
// and a consumer reading every partition from the start, each acknowledged
// write and each consumed record going to the checker's AckedWrites. Plus the
// steps of a fault test: waiting for the ISR to be whole again, finding leaders,
// and the end-of-test check over every replica's log.
#pragma once

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "consistency_checker.h"
#include "test_cluster.h"

namespace runnel::fault {

struct WorkloadOptions {
  std::string topic = "faults";
  int partitions = 6;
  int producers = 2;
  int keys_per_producer = 20;
  int records_per_second = 400;  // per producer, bounded so every run is bounded
  int record_bytes = 100;
};

class Workload {
 public:
  Workload(std::string bootstrap, WorkloadOptions options, AckedWrites& writes);
  ~Workload();  // stop()

  void start();
  // Stops producing, waits (bounded) for outstanding deliveries and for the
  // consumer to reach what was acknowledged, then stops it.
  void stop(std::chrono::milliseconds drain = std::chrono::seconds(60));

  size_t acked() const { return acked_; }
  size_t consumed() const { return writes_.ConsumedCount(); }
  // Delivery failures by error name (each one a record the client gave up on).
  std::map<std::string, size_t> failures() const;
  size_t failure_count() const;
  std::string fatal_error() const;

 private:
  struct ProducerState;
  void produce_loop(int index);
  void consume_loop();
  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque);

  std::string bootstrap_;
  WorkloadOptions options_;
  AckedWrites& writes_;
  std::vector<std::unique_ptr<ProducerState>> producers_;
  std::vector<std::thread> threads_;
  std::thread consumer_;
  std::atomic<bool> stop_producing_{false};
  std::atomic<bool> stop_consuming_{false};
  std::atomic<size_t> acked_{0};
  mutable std::mutex mu_;
  std::map<std::string, size_t> failures_;
  std::string fatal_;
};

// Leader of each partition of `topic` from one broker's view (-1: none).
std::vector<int32_t> Leaders(it::TestCluster& cluster, int asking_broker, const std::string& topic);
// Waits until every partition of `topic` has a leader and `replicas` in-sync
// replicas, as every running broker sees it.
bool WaitForFullIsr(it::TestCluster& cluster, const std::string& topic, size_t replicas,
                    std::chrono::milliseconds timeout);
// Stops every broker cleanly, reads every replica of `topic` from every data
// dir and checks them against what was acknowledged and consumed.
ConsistencyReport StopAndCheck(it::TestCluster& cluster, const std::string& topic, int partitions,
                               const AckedWrites& writes);

// Rounds of a fault loop: RUNNEL_FAULT_ROUNDS, else `default_rounds`.
int FaultRounds(int default_rounds);

}  // namespace runnel::fault
