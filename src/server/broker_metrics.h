#pragma once
// The counters and histograms the broker updates as it serves: requests and
// their latency per API (recorded at dispatch, in Connection), bytes and
// records in/out per topic and error codes (recorded by the produce and fetch
// handlers), and connections. Updated on the event loop; the per-API
// instruments are atomics, so reading them for a scrape is always safe.
// Gauges that describe state (partitions, offsets, lag) are not kept here:
// metrics_page.cpp reads them from the broker when /metrics is scraped.
#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <utility>

#include "common/error_code.h"
#include "metrics/counter.h"
#include "metrics/exposition.h"
#include "metrics/histogram.h"

namespace runnel::server {

class BrokerMetrics {
 public:
  BrokerMetrics();

  // One request with a known API key: answered (latency recorded) or failed
  // (malformed, unsupported version, handler error: the connection is closed).
  void record_request(int16_t api_key, std::chrono::nanoseconds elapsed, bool failed);
  void record_unknown_api() { unknown_api_.inc(); }

  void record_bytes_in(const std::string& topic, uint64_t bytes, uint64_t records);
  void record_bytes_out(const std::string& topic, uint64_t bytes, uint64_t records);
  // A partition-level (or request-level) error in a response of `api_key`.
  void record_error(int16_t api_key, ErrorCode code);

  void connection_opened() {
    connections_accepted_.inc();
    connections_active_.add(1);
  }
  void connection_closed() { connections_active_.add(-1); }

  // Writes the families this object owns.
  void render(metrics::Exposition& out) const;

 private:
  static constexpr size_t kMaxApiKey = 128;
  struct ApiMetrics {
    metrics::Counter requests;
    metrics::Counter failed;
    metrics::Histogram latency;
  };
  struct TopicTraffic {
    uint64_t bytes_in = 0;
    uint64_t records_in = 0;
    uint64_t bytes_out = 0;
    uint64_t records_out = 0;
  };

  std::array<std::unique_ptr<ApiMetrics>, kMaxApiKey> apis_;
  std::map<std::string, TopicTraffic, std::less<>> topics_;     // event loop only
  std::map<std::pair<int16_t, int16_t>, uint64_t> errors_;       // (api key, error code); event loop only
  metrics::Counter unknown_api_;
  metrics::Counter connections_accepted_;
  metrics::Gauge connections_active_;
  double start_time_seconds_ = 0;  // since the epoch
};

// Records in the whole RecordBatches of a fetch read (or the magic 0/1 messages
// a Fetch v0-3 is down-converted to), counting only those at or after
// `fetch_offset` (the first batch may start before it). Reads headers only.
uint64_t count_fetched_records(std::span<const uint8_t> batches, int64_t fetch_offset);

}  // namespace runnel::server
