// A log-linear latency histogram in the spirit of HdrHistogram: values are
// recorded into buckets whose width grows with the value so that every
// recorded value is kept within a fixed relative error (1/sub_buckets),
// recording is O(1) with no allocation, and percentiles are exact to that
// precision. Values are non-negative integers (the driver records
// nanoseconds).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace runnel::bench {

class LatencyHistogram {
 public:
  // sub_bucket_bits: each power-of-two range is split into 2^bits linear
  // buckets (7 bits -> relative error below 1/128 = 0.8%).
  explicit LatencyHistogram(unsigned sub_bucket_bits = 7);

  void record(uint64_t value);
  void merge(const LatencyHistogram& other);
  void reset();

  uint64_t count() const { return count_; }
  uint64_t min() const { return count_ ? min_ : 0; }
  uint64_t max() const { return max_; }
  double mean() const { return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0.0; }

  // The smallest recorded-bucket value v such that at least q (0..1) of all
  // recorded values are <= v, reported as the bucket's upper bound clamped to
  // the true maximum. 0 when empty.
  uint64_t percentile(double q) const;

  // Index of the bucket a value falls into, and that bucket's bounds.
  std::size_t bucket_index(uint64_t value) const;
  uint64_t bucket_low(std::size_t index) const;
  uint64_t bucket_high(std::size_t index) const;  // inclusive

 private:
  unsigned bits_;
  uint64_t sub_count_;
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
  uint64_t sum_ = 0;
};

}  // namespace runnel::bench
