#include "server/broker_metrics.h"

#include <algorithm>

#include "protocol/api_info.h"
#include "server/api_handlers.h"
#include "storage/record_batch.h"

namespace runnel::server {

BrokerMetrics::BrokerMetrics() {
  start_time_seconds_ = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  // One slot per served API, made up front: dispatch never allocates.
  for (const auto& handler : api_handlers()) {
    if (handler.api_key >= 0 && static_cast<size_t>(handler.api_key) < kMaxApiKey) {
      apis_[static_cast<size_t>(handler.api_key)] = std::make_unique<ApiMetrics>();
    }
  }
}

void BrokerMetrics::record_request(int16_t api_key, std::chrono::nanoseconds elapsed, bool failed) {
  if (api_key < 0 || static_cast<size_t>(api_key) >= kMaxApiKey) return;
  auto* api = apis_[static_cast<size_t>(api_key)].get();
  if (api == nullptr) return;
  api->requests.inc();
  if (failed) {
    api->failed.inc();
  } else {
    api->latency.observe(elapsed);
  }
}

void BrokerMetrics::record_bytes_in(const std::string& topic, uint64_t bytes, uint64_t records) {
  auto it = topics_.find(topic);
  if (it == topics_.end()) it = topics_.emplace(topic, TopicTraffic{}).first;
  it->second.bytes_in += bytes;
  it->second.records_in += records;
}

void BrokerMetrics::record_bytes_out(const std::string& topic, uint64_t bytes, uint64_t records) {
  auto it = topics_.find(topic);
  if (it == topics_.end()) it = topics_.emplace(topic, TopicTraffic{}).first;
  it->second.bytes_out += bytes;
  it->second.records_out += records;
}

void BrokerMetrics::record_error(int16_t api_key, ErrorCode code) {
  if (code == ErrorCode::kNone) return;
  ++errors_[{api_key, to_wire(code)}];
}

namespace {

std::string_view api_name(int16_t api_key) {
  const auto* info = protocol::api_info(api_key);
  return info != nullptr ? info->name : std::string_view("Unknown");
}

}  // namespace

void BrokerMetrics::render(metrics::Exposition& out) const {
  out.family("runnel_build_info", "gauge", "Always 1; the version label is the broker's version.");
  out.sample("runnel_build_info", {{"version", RUNNEL_VERSION}}, int64_t{1});
  out.family("process_start_time_seconds", "gauge", "When the broker started, in seconds since the Unix epoch.");
  out.sample("process_start_time_seconds", {}, start_time_seconds_);

  out.family("runnel_requests_total", "counter", "Requests received, by API (counted when answered or failed).");
  for (size_t key = 0; key < kMaxApiKey; ++key) {
    if (apis_[key]) out.sample("runnel_requests_total", {{"api", api_name(static_cast<int16_t>(key))}}, apis_[key]->requests.value());
  }
  out.family("runnel_request_errors_total", "counter",
             "Requests that could not be served (malformed, unsupported version, internal error); the connection was closed.");
  for (size_t key = 0; key < kMaxApiKey; ++key) {
    if (apis_[key]) out.sample("runnel_request_errors_total", {{"api", api_name(static_cast<int16_t>(key))}}, apis_[key]->failed.value());
  }
  out.family("runnel_requests_unknown_api_total", "counter", "Requests with an API key the broker does not serve.");
  out.sample("runnel_requests_unknown_api_total", {}, unknown_api_.value());
  out.family("runnel_request_duration_seconds", "histogram",
             "Time from reading a request to its response being ready, by API (includes long-poll and fsync waits).");
  for (size_t key = 0; key < kMaxApiKey; ++key) {
    if (apis_[key]) {
      out.histogram("runnel_request_duration_seconds", {{"api", api_name(static_cast<int16_t>(key))}},
                    apis_[key]->latency.snapshot());
    }
  }

  out.family("runnel_topic_bytes_in_total", "counter", "Record-batch bytes appended by Produce, by topic.");
  for (const auto& [topic, t] : topics_) out.sample("runnel_topic_bytes_in_total", {{"topic", topic}}, t.bytes_in);
  out.family("runnel_topic_records_in_total", "counter", "Records appended by Produce, by topic.");
  for (const auto& [topic, t] : topics_) out.sample("runnel_topic_records_in_total", {{"topic", topic}}, t.records_in);
  out.family("runnel_topic_bytes_out_total", "counter", "Record-batch bytes returned by Fetch, by topic.");
  for (const auto& [topic, t] : topics_) out.sample("runnel_topic_bytes_out_total", {{"topic", topic}}, t.bytes_out);
  out.family("runnel_topic_records_out_total", "counter",
             "Records at or after the fetch offset returned by Fetch, by topic.");
  for (const auto& [topic, t] : topics_) out.sample("runnel_topic_records_out_total", {{"topic", topic}}, t.records_out);

  out.family("runnel_errors_total", "counter", "Error codes returned in Produce and Fetch responses, by API and error.");
  for (const auto& [key, count] : errors_) {
    const std::string code = std::to_string(key.second);
    out.sample("runnel_errors_total",
               {{"api", api_name(key.first)}, {"error", error_name(static_cast<ErrorCode>(key.second))}, {"code", code}},
               count);
  }

  out.family("runnel_connections_active", "gauge", "Open Kafka client connections.");
  out.sample("runnel_connections_active", {}, connections_active_.value());
  out.family("runnel_connections_accepted_total", "counter", "Kafka client connections accepted.");
  out.sample("runnel_connections_accepted_total", {}, connections_accepted_.value());
}

uint64_t count_fetched_records(std::span<const uint8_t> batches, int64_t fetch_offset) {
  namespace L = storage::batch_layout;
  uint64_t records = 0;
  size_t position = 0;
  // v2 batches and the magic 0/1 messages of a down-converted Fetch v0-3 share
  // the framing: offset (8), length (4), and the magic byte at the same place.
  while (batches.size() - position > static_cast<size_t>(L::kMagic)) {
    const uint8_t* entry = batches.data() + position;
    const int64_t total_size = int64_t{12} + storage::load_be32(entry + 8);
    if (total_size <= 12 || static_cast<uint64_t>(total_size) > batches.size() - position) break;
    if (entry[L::kMagic] < storage::kCurrentMagic) {
      // One uncompressed message (down-conversion never compresses).
      if (storage::load_be64(entry) >= fetch_offset) ++records;
    } else {
      if (static_cast<size_t>(total_size) < storage::kBatchHeaderSize) break;
      const auto header = storage::parse_batch_header(batches.subspan(position));
      if (!header.control() && header.last_offset() >= fetch_offset) {
        const int64_t skipped = std::max<int64_t>(0, fetch_offset - header.base_offset);
        records += static_cast<uint64_t>(std::max<int64_t>(0, header.record_count - skipped));
      }
    }
    position += static_cast<size_t>(total_size);
  }
  return records;
}

}  // namespace runnel::server
