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

// One line of JSON with the figures, the broker's CPU seconds over the run
// and its peak RSS.
std::string to_json(const RunResult& result, const std::string& label, double broker_cpu_seconds,
                    uint64_t broker_peak_rss_kb);
// A short human-readable summary.
std::string to_text(const RunResult& result, const std::string& label, double broker_cpu_seconds,
                    uint64_t broker_peak_rss_kb);

}  // namespace runnel::bench
