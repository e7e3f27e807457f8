// The three measured loops, the same for every system: produce (throughput
// and produce-ack latency), consume (read everything back), e2e (fixed rate,
// latency from send to delivery).
#pragma once

#include <cstdint>
#include <string>

#include "driver.h"
#include "histogram.h"

namespace runnel::bench {

struct RunResult {
  std::string workload;
  uint64_t records = 0;
  uint64_t bytes = 0;
  uint64_t failed = 0;   // records the system refused to acknowledge
  double seconds = 0;
  LatencyHistogram ack_ns;  // produce: send -> ack
  LatencyHistogram e2e_ns;  // e2e: send -> delivery
  double setup_seconds = 0;  // topic creation / group join before measuring
};

struct ProduceSpec {
  uint64_t count = 100000;
  std::size_t size = 100;
  double rate = 0;  // records/s; 0 = as fast as possible
  // Records sent but not yet acknowledged before the loop waits for acks
  // (0: only the client's own queue limit). An application that bounds what
  // it has in flight; the ack latency then measures the system, not how long
  // records wait in a client queue the loop filled faster than it drains.
  uint64_t max_in_flight = 0;
};

RunResult run_produce(const DriverOptions& options, const ProduceSpec& spec);

struct ConsumeSpec {
  uint64_t count = 100000;
  int idle_timeout_ms = 10000;  // give up when nothing arrives for this long
};

RunResult run_consume(const DriverOptions& options, const ConsumeSpec& spec);

struct E2eSpec {
  uint64_t count = 100000;
  std::size_t size = 100;
  double rate = 10000;
  double warmup_seconds = 1.0;  // records sent in this first stretch are not measured
  int idle_timeout_ms = 10000;
};

RunResult run_e2e(const DriverOptions& options, const E2eSpec& spec);

// What the broker process used over the run (unknown without its pid).
struct BrokerUsage {
  bool known = false;
  double user_seconds = 0;
  double system_seconds = 0;
  uint64_t peak_rss_kb = 0;
  double cpu_seconds() const { return user_seconds + system_seconds; }
};

// One line of JSON with the figures and the broker's usage.
std::string to_json(const RunResult& result, const std::string& label, const BrokerUsage& broker);
// A short human-readable summary.
std::string to_text(const RunResult& result, const std::string& label, const BrokerUsage& broker);

}  // namespace runnel::bench
