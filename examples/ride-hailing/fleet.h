// The fleet: a producer emitting driver-location events, keyed by driver id,
// so that every update of one driver lands in the same partition, in order.
#pragma once

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

namespace ride {

struct FleetOptions {
  std::string brokers;
  std::string topic;
  std::string run_id;  // tags this run's events, so replays of older runs are told apart
  int drivers = 12;
  double events_per_second = 40;
  std::chrono::milliseconds duration{24000};
};

class Fleet {
 public:
  explicit Fleet(FleetOptions options);
  ~Fleet();
  // Creates the producer and starts emitting on a thread; false with error() on failure.
  bool start();
  bool done() const { return done_; }
  long produced() const { return produced_; }  // acknowledged by the broker
  long failed() const { return failed_; }
  const std::string& error() const { return error_; }
  void join();

 private:
  static void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque);
  void run();

  FleetOptions options_;
  rd_kafka_t* rk_ = nullptr;
  std::thread thread_;
  std::atomic<bool> done_{false};
  std::atomic<long> produced_{0};
  std::atomic<long> failed_{0};
  std::string error_;
};

}  // namespace ride
