#pragma once
// A latency histogram in seconds with fixed bucket bounds (Prometheus
// histogram: cumulative `_bucket{le=...}`, `_sum`, `_count` at render time).
// observe() is lock-free (relaxed atomics), so a background thread (the
// flusher) can record while the event loop renders a snapshot.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace runnel::metrics {

struct HistogramSnapshot {
  std::vector<double> bounds;      // upper bounds in seconds, ascending (+Inf implied)
  std::vector<uint64_t> buckets;   // cumulative counts, one per bound, then +Inf
  double sum_seconds = 0;
  uint64_t count = 0;
};

class Histogram {
 public:
  // Bounds suited to request and fsync latencies: 100 µs .. 10 s.
  static std::span<const double> latency_bounds();

  explicit Histogram(std::span<const double> bounds = latency_bounds());
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  void observe(std::chrono::nanoseconds elapsed);
  HistogramSnapshot snapshot() const;
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::vector<int64_t> bounds_ns_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // non-cumulative; last is +Inf
  std::atomic<uint64_t> sum_ns_{0};
  std::atomic<uint64_t> count_{0};
};

}  // namespace runnel::metrics
