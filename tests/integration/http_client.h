// A tiny blocking HTTP client for tests of the broker's /metrics endpoint, and
// a parser for the Prometheus text format.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

namespace runnel::it {

struct HttpReply {
  int status = -1;      // -1: no HTTP answer (connection refused, closed, timed out)
  std::string headers;  // status line and headers
  std::string body;
};

// Sends `raw` as-is to 127.0.0.1:port, reads until the server closes (bounded by timeout).
HttpReply HttpExchange(std::uint16_t port, const std::string& raw,
                       std::chrono::milliseconds timeout = std::chrono::seconds(10));
HttpReply HttpGet(std::uint16_t port, const std::string& path,
                  std::chrono::milliseconds timeout = std::chrono::seconds(10));

// Samples of a text exposition, keyed by the series as written:
// `name` or `name{label="v",...}`. Comment lines are skipped.
using MetricSamples = std::map<std::string, double>;
MetricSamples ParseMetrics(const std::string& text);

// Sum of every sample of family `name` (exact name, any labels) whose labels
// contain all of `label_filter` (a list like `topic="t"`); 0 when none.
double SumMetric(const MetricSamples& samples, const std::string& name, const std::string& label_filter = "");
// Number of samples of `name` matching the filter.
int CountMetric(const MetricSamples& samples, const std::string& name, const std::string& label_filter = "");

}  // namespace runnel::it
