#pragma once
// A monotonically increasing count (Prometheus counter) and a value that goes up
// and down (gauge). Relaxed atomics: safe to update from any thread, and on the
// event loop about as cheap as a plain increment.
#include <atomic>
#include <cstdint>

namespace runnel::metrics {

class Counter {
 public:
  void inc(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

class Gauge {
 public:
  void add(int64_t n) { value_.fetch_add(n, std::memory_order_relaxed); }
  void set(int64_t n) { value_.store(n, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

}  // namespace runnel::metrics
